"""Normalisation rules and the ``normalize_*`` functions on small crafted inputs.

The expected values are written out by hand (or recomputed from the raw GV100AD with
plain Python), never taken from the code under test.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Any

import polars as pl
import pytest

from pipelines.normalisation import normalize, rules
from pipelines.normalisation.normalizers.gebiete import normalize_gebiete
from pipelines.normalisation.normalizers.leistungen import normalize_leistungen
from pipelines.normalisation.normalizers.onlinedienste import normalize_onlinedienste
from pipelines.normalisation.normalizers.verfuegbarkeit import normalize_verfuegbarkeit
from pipelines.quality import contracts
from sources import dashboard, fim, ingest, pvog
from sources.sample.files import gv100ad_frame

SNAPSHOT = date(2026, 2, 1)
SHA = "ab" * 32


def _apply(rule: Callable[[pl.Expr], pl.Expr], values: list[str | None]) -> list[Any]:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return frame.select(rule(pl.col("v")).alias("v"))["v"].to_list()


# -- ARS ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("064360005005", "064360005005"),
        ("  064360005005 ", "064360005005"),
        ("64360005005", "064360005005"),  # Hessen read as a number: leading zero lost
        ("6", "060000000000"),  # bare Land code read as a number
        ("06", "060000000000"),
        ("16", "160000000000"),
        ("06436", "064360000000"),  # 5-digit Kreis key
        ("06436005", None),  # an AGS is not an ARS
        ("064360005", None),
        ("0064360005005", None),
        ("06436000500", None),  # 11 digits starting with 0: truncated, not a lost zero
        ("0", None),
        ("0643600050X5", None),
        ("0643-6000-5005", None),
        ("", None),
        (None, None),
    ],
)
def test_repair_ars(raw: str | None, expected: str | None) -> None:
    assert _apply(rules.repair_ars, [raw]) == [expected]


@pytest.mark.parametrize(
    ("ars", "ags"),
    [
        ("064360005005", "06436005"),  # Hattersheim am Main
        ("065310007007", "06531007"),  # Heuchelheim a. d. Lahn
        ("064140000000", "06414000"),  # Wiesbaden
    ],
)
def test_ags_from_ars_drops_the_verband(ars: str, ags: str) -> None:
    assert _apply(rules.ags_from_ars, [ars]) == [ags]


@pytest.mark.parametrize(
    ("ars", "ebene"),
    [
        ("000000000000", "Bund"),
        ("060000000000", "Land"),
        ("020000000000", "Land"),  # Hamburg
        ("064000000000", "Regierungsbezirk"),
        ("064360000000", "Kreis"),
        ("010010000000", "Kreis"),  # Flensburg: Land without Regierungsbezirke
        ("064140000000", "Kreis"),  # kreisfreie Stadt Wiesbaden reads as its Kreis ARS
        ("064360005000", "Gemeindeverband"),
        ("064360005005", "Gemeinde"),
    ],
)
def test_ars_ebene(ars: str, ebene: str) -> None:
    assert _apply(rules.ars_ebene, [ars]) == [ebene]


# -- text ---------------------------------------------------------------------------------
def test_clean_text_composes_unicode() -> None:
    decomposed = "Hu\u0308nfeld"
    (cleaned,) = _apply(rules.clean_text, [decomposed])
    assert cleaned == "H\u00fcnfeld"
    assert len(cleaned) == 7 and unicodedata.is_normalized("NFC", cleaned)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Bad   Homburg\tv. d.\nHöhe ", "Bad Homburg v. d. Höhe"),
        ("Bad\u00a0Vilbel", "Bad Vilbel"),  # no-break space
        ("Kassel", "Kassel"),
        ("", None),
        (" \t\n ", None),
        (None, None),
    ],
)
def test_clean_text_collapses_and_trims_whitespace(raw: str | None, expected: str | None) -> None:
    assert _apply(rules.clean_text, [raw]) == [expected]


# -- enums --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ok", "ok"),
        ("OK", "ok"),
        (" ok ", "ok"),
        ("Nicht OK", "nicht ok"),
        ("nicht  ok", "nicht ok"),
        ("nicht_ok", "nicht ok"),
        ("unbekannt", None),
        ("", None),
        (None, None),
    ],
)
def test_online_status_enum(raw: str | None, expected: str | None) -> None:
    assert _apply(lambda e: rules.map_enum(e, rules.ONLINE_STATUS), [raw]) == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("ja", True), (" Nein ", False), ("JA", True), ("vielleicht", None), (None, None)],
)
def test_aktiv_enum(raw: str | None, expected: bool | None) -> None:
    assert _apply(lambda e: rules.map_enum(e, rules.AKTIV), [raw]) == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Bundesweit Flächendeckend", "bundesweit flächendeckend"),
        ("LANDESWEIT FLÄCHENDECKEND", "landesweit flächendeckend"),
        ("kreisweit fla\u0308chendeckend", "kreisweit flächendeckend"),  # NFD
        ("IN MIND. EINER KOMMUNE VERFÜGBAR", "in mind. einer Kommune verfügbar"),
        (" nicht in auswertung  berücksichtigt ", "nicht in Auswertung berücksichtigt"),
        ("teilweise flächendeckend", None),
    ],
)
def test_flaechendeckung_maps_to_the_canonical_spelling(raw: str, expected: str | None) -> None:
    assert _apply(lambda e: rules.map_enum(e, rules.FLAECHENDECKUNG), [raw]) == [expected]


# -- dates --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-10-28", date(2026, 10, 28)),
        ("28.10.2026", date(2026, 10, 28)),
        ("2026-10-28T08:15:00Z", date(2026, 10, 28)),
        ("2026-10-28T08:15:00.123+02:00", date(2026, 10, 28)),
        (" 2026-10-28 ", date(2026, 10, 28)),
        ("10/28/2026", None),
        ("2026-13-01", None),
        ("31.02.2026", None),
        ("28.10.26", None),  # two-digit year: not year 26
        ("20261028", None),
        ("2026-10-28Tmorning", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(raw: str | None, expected: date | None) -> None:
    assert _apply(rules.parse_date, [raw]) == [expected]


# -- normalize_verfuegbarkeit ------------------------------------------------------------
RAW_FILE = "data_064360005005_own_p0_0000.json"
HATTERSHEIM = "064360005005"
BASE_RECORD: dict[str, Any] = {
    "leika_key": "99900000000000",
    "leika_name": "Wohnsitz Ummeldung",
    "ars": HATTERSHEIM,
    "ars_name": "Hattersheim am Main",
    "ars_federal_state": "06",
    "bundesland": "Hessen",
    "leika_bezeichnung": None,
    "ozgid": 90001,
    "ozg_bezeichnung": "Melderegister",
    "url": "https://hattersheim.beispiel-kommune.de/onlinedienste/ozg-90001",
    "online_status": "ok",
    "aktiv": "ja",
    "art_flaechendeckung": "in mind. einer Kommune verfügbar",
    "begruendung_nicht_beruecksichtigt": None,
    "export_datum": None,
    "datenstand_pvog_import": "2026-01-28",
}
# (changes to BASE_RECORD, expected reason or None when the row is kept); each row gets its
# own leika_key unless it sets one, so only the intended duplicates share a grain.
CASES: list[tuple[dict[str, Any], str | None]] = [
    ({}, None),
    ({"ars": "64360005005"}, None),  # 1: lost leading zero, repaired
    ({"leika_name": "  Zisterne  Fo\u0308rderung "}, None),  # 2: NFD + whitespace, cleaned
    ({"online_status": " OK ", "art_flaechendeckung": "KREISWEIT flächendeckend"}, None),
    ({"ars": "06", "ars_name": "Hessen"}, None),  # 4: Land code padded
    ({"leika_key": "9990000000000"}, "leika_invalid"),  # 5: 13 digits
    ({"leika_key": "999000O0000000"}, "leika_invalid"),  # 6: letter O
    ({"ars": "0643600050"}, "ars_invalid"),  # 7: 10 digits
    ({"ars": "069990000000"}, "ars_not_in_gebietsstand"),  # 8: not in the edition
    ({"online_status": "unbekannt"}, "enum_invalid"),  # 9
    ({"aktiv": "vielleicht"}, "enum_invalid"),  # 10
    ({"art_flaechendeckung": "teilweise flächendeckend"}, "enum_invalid"),  # 11
    ({"datenstand_pvog_import": "10/28/2026"}, "date_invalid"),  # 12
    ({"leika_key": "99911111111000", "online_status": "nicht ok"}, "duplicate"),  # 13
    ({"leika_key": "99911111111000"}, None),  # 14: same grain as 13 but ok: wins
    ({"ars": "000000000000", "ars_name": "Bund"}, None),  # 15: Bund is always known
    ({"ars": "064140000000", "ars_name": "Wiesbaden"}, None),  # 16: on 3 gebiete rows
    ({"datenstand_pvog_import": None, "aktiv": None}, None),  # 17: both may be absent
    ({"leika_key": "99922222222000"}, None),  # 18: first of two identical ok rows
    ({"leika_key": "99922222222000"}, "duplicate"),  # 19: … later one is the duplicate
]


def _dashboard_frame(cases: list[tuple[dict[str, Any], str | None]]) -> pl.DataFrame:
    rows = []
    for index, (changes, _) in enumerate(cases):
        record = {**BASE_RECORD, "leika_key": f"999000000{index:03d}00", **changes}
        lineage = {
            "query_ars": HATTERSHEIM,
            "include_above": False,
            "raw_file": RAW_FILE,
            "raw_sha256": SHA,
            "record_index": index,
        }
        rows.append({**record, **lineage})
    schema = {**dashboard.SCHEMA, **ingest.LINEAGE}
    return pl.DataFrame(rows, schema=schema, orient="row")


@pytest.fixture(scope="module")
def gebiete() -> pl.DataFrame:
    # Wiesbaden is Kreis, Gemeindeverband and Gemeinde under one ARS.
    return pl.DataFrame(
        {
            "ars": [
                "060000000000",
                "064360000000",
                "064360005000",
                HATTERSHEIM,
                "064140000000",
                "064140000000",
                "064140000000",
            ],
            "ebene": [
                "Land",
                "Kreis",
                "Gemeindeverband",
                "Gemeinde",
                "Kreis",
                "Gemeindeverband",
                "Gemeinde",
            ],
        }
    )


@pytest.fixture(scope="module")
def verfuegbarkeit(gebiete: pl.DataFrame) -> tuple[pl.DataFrame, normalize.Normalized]:
    entries = _dashboard_frame(CASES)
    return entries, normalize_verfuegbarkeit(entries, SNAPSHOT, gebiete, sample=True)


def _by_index(frame: pl.DataFrame) -> dict[int, dict[str, Any]]:
    return {row["record_index"]: row for row in frame.iter_rows(named=True)}


def _quarantined(quarantine: pl.DataFrame) -> dict[int, dict[str, Any]]:
    prefix = f"{RAW_FILE} record "
    assert all(ref.startswith(prefix) for ref in quarantine["record_ref"])
    return {
        int(row["record_ref"].removeprefix(prefix)): row for row in quarantine.iter_rows(named=True)
    }


def test_verfuegbarkeit_loses_no_row(
    verfuegbarkeit: tuple[pl.DataFrame, normalize.Normalized],
) -> None:
    entries, result = verfuegbarkeit
    assert entries.height == result.table.height + result.quarantine.height
    kept = set(_by_index(result.table))
    rejected = set(_quarantined(result.quarantine))
    assert kept.isdisjoint(rejected)
    assert kept | rejected == set(range(len(CASES)))


def test_verfuegbarkeit_reason_codes(
    verfuegbarkeit: tuple[pl.DataFrame, normalize.Normalized],
) -> None:
    _, result = verfuegbarkeit
    expected = {i: reason for i, (_, reason) in enumerate(CASES) if reason is not None}
    quarantined = _quarantined(result.quarantine)
    assert {i: row["reason_code"] for i, row in quarantined.items()} == expected
    assert result.reasons() == {
        "ars_invalid": 1,
        "ars_not_in_gebietsstand": 1,
        "date_invalid": 1,
        "duplicate": 2,
        "enum_invalid": 3,
        "leika_invalid": 2,
    }


@pytest.mark.parametrize(
    ("index", "offending"),
    [
        (5, "9990000000000"),
        (6, "999000O0000000"),
        (7, "0643600050"),
        (8, "069990000000"),
        (9, "unbekannt"),
        (10, "vielleicht"),
        (11, "teilweise flächendeckend"),
        (12, "10/28/2026"),
        (13, "99911111111000"),
        (19, "99922222222000"),
    ],
)
def test_quarantine_message_names_the_offending_value(
    verfuegbarkeit: tuple[pl.DataFrame, normalize.Normalized], index: int, offending: str
) -> None:
    _, result = verfuegbarkeit
    assert offending in _quarantined(result.quarantine)[index]["message"]


def test_quarantine_keeps_lineage_and_the_original_record(
    verfuegbarkeit: tuple[pl.DataFrame, normalize.Normalized],
) -> None:
    entries, result = verfuegbarkeit
    assert result.quarantine.schema == normalize.QUARANTINE_SCHEMA
    originals = _by_index(entries)
    for index, row in _quarantined(result.quarantine).items():
        assert row["table"] == "verfuegbarkeit"
        assert row["snapshot"] == SNAPSHOT
        assert row["source"] == "dashboard"
        assert row["raw_file"] == RAW_FILE
        assert row["raw_sha256"] == SHA
        assert row["sample"] is True
        record = json.loads(row["record"])
        if row["reason_code"] != "duplicate":
            # The record as received, not as repaired.
            raw = {k: v for k, v in originals[index].items() if k in dashboard.FIELDS}
            assert record == raw
    assert json.loads(_quarantined(result.quarantine)[7]["record"])["ars"] == "0643600050"


def test_verfuegbarkeit_repairs(verfuegbarkeit: tuple[pl.DataFrame, normalize.Normalized]) -> None:
    _, result = verfuegbarkeit
    assert result.table.schema == contracts.VERFUEGBARKEIT_SCHEMA
    kept = _by_index(result.table)
    assert kept[1]["ars"] == HATTERSHEIM
    assert kept[1]["anbieter_ebene"] == "Gemeinde"
    assert kept[2]["leika_name"] == "Zisterne F\u00f6rderung"
    assert kept[3]["online_status"] == "ok"
    assert kept[3]["art_flaechendeckung"] == "kreisweit flächendeckend"
    assert (kept[4]["ars"], kept[4]["anbieter_ebene"]) == ("060000000000", "Land")
    assert (kept[15]["ars"], kept[15]["anbieter_ebene"]) == ("000000000000", "Bund")
    assert kept[16]["anbieter_ebene"] == "Kreis"
    assert kept[17]["datenstand"] is None and kept[17]["aktiv"] is None
    first = kept[0]
    assert first["snapshot"] == SNAPSHOT
    assert first["query_scope"] == "own"
    assert first["aktiv"] is True
    assert first["datenstand"] == date(2026, 1, 28)
    assert first["ozg_id"] == "90001"
    assert (first["source"], first["raw_file"], first["sample"]) == ("dashboard", RAW_FILE, True)


def test_verfuegbarkeit_duplicates_prefer_a_working_entry(
    verfuegbarkeit: tuple[pl.DataFrame, normalize.Normalized],
) -> None:
    _, result = verfuegbarkeit
    kept = _by_index(result.table)
    # 13 (nicht ok) came first, 14 (ok) wins; of two ok rows the first received wins.
    assert kept[14]["online_status"] == "ok"
    assert 13 not in kept and 19 not in kept and 18 in kept
    grain = list(contracts.GRAINS["verfuegbarkeit"])
    assert result.table.select(grain).is_duplicated().sum() == 0


def test_verfuegbarkeit_grain_includes_the_perspective(gebiete: pl.DataFrame) -> None:
    entries = _dashboard_frame([({}, None), ({}, None)]).with_columns(
        pl.Series("leika_key", ["99900000000000"] * 2),
        pl.Series("include_above", [False, True]),
    )
    result = normalize_verfuegbarkeit(entries, SNAPSHOT, gebiete, sample=False)
    assert result.quarantine.is_empty()
    assert sorted(result.table["query_scope"]) == ["above", "own"]
    assert result.table["sample"].to_list() == [False, False]


# -- normalize_onlinedienste --------------------------------------------------------------
PVOG_FILE = "servicedescriptions_000000000000.csv"


def _pvog_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    base = {
        "id_lb": "B100019.LB.1",
        "leika_key": "99900000000100",
        "name": "Reisepass",
        "name2": None,
        "updatedatum": None,
        "id_od": "B100019.OD.1",
        "bezeichnung_od": "Reisepass online",
        "links": "https://onlinedienst.example/bund/ozg-90001",
    }
    full = [
        {
            **base,
            **row,
            "line_number": index + 2,
            "query_ars": "000000000000",
            "raw_file": PVOG_FILE,
            "raw_sha256": SHA,
        }
        for index, row in enumerate(rows)
    ]
    schema = {**pvog.SCHEMA, "query_ars": pl.String, "raw_file": pl.String, "raw_sha256": pl.String}
    return pl.DataFrame(full, schema=schema, orient="row")


def test_normalize_onlinedienste() -> None:
    rows = _pvog_frame(
        [
            {
                "leika_key": " 99900000000100 ",
                "name": "  Reisepa\u0308sse   beantragen ",
                "links": " https://a.example ",
            },
            {"id_lb": "B100019.LB.2", "id_od": None, "leika_key": "99900000000200"},
            {"id_lb": None},  # line 4
            {"id_lb": "   "},  # line 5: blank is as empty as missing
            {"id_lb": "B100019.LB.3", "leika_key": "9990000000"},  # line 6
            {"name": "Reisepass (zweite Zeile)"},  # line 7: same grain as line 2
            {"id_lb": "L100042.LB.TEST4711", "leika_key": "99900000000300"},  # line 8
            {"id_lb": "L100042.LB.test-2", "leika_key": "99900000000400"},  # line 9
            # line 10: "Test" in the name of a real Leistung is no test record.
            {
                "id_lb": "B100019.LB.4",
                "name": "Nutzung der Testplattform",
                "leika_key": "99900000000500",
            },
        ]
    )
    result = normalize_onlinedienste(rows, SNAPSHOT, sample=True)
    assert result.table.schema == contracts.ONLINEDIENSTE_SCHEMA
    assert rows.height == result.table.height + result.quarantine.height
    reasons = dict(
        zip(result.quarantine["record_ref"], result.quarantine["reason_code"], strict=True)
    )
    assert reasons == {
        f"{PVOG_FILE} line 4": "missing_key",
        f"{PVOG_FILE} line 5": "missing_key",
        f"{PVOG_FILE} line 6": "leika_invalid",
        f"{PVOG_FILE} line 7": "duplicate",
        f"{PVOG_FILE} line 8": "test_record",
        f"{PVOG_FILE} line 9": "test_record",
    }
    test_record = result.quarantine.filter(pl.col("reason_code") == "test_record").row(
        0, named=True
    )
    assert "L100042.LB.TEST4711" in test_record["message"]
    assert "B100019.LB.4" in result.table["id_lb"].to_list()
    invalid = result.quarantine.filter(pl.col("reason_code") == "leika_invalid").row(0, named=True)
    assert "9990000000" in invalid["message"]
    assert json.loads(invalid["record"])["id_lb"] == "B100019.LB.3"
    assert set(result.quarantine["source"]) == {"pvog"}
    first = result.table.filter(pl.col("line_number") == 2).row(0, named=True)
    assert first["leika_key"] == "99900000000100"
    assert first["leistung_name"] == "Reisep\u00e4sse beantragen"
    assert first["link"] == "https://a.example"
    assert (first["source"], first["raw_file"], first["sample"]) == ("pvog", PVOG_FILE, True)
    assert result.table["id_lb"].null_count() == 0


# -- normalize_leistungen -----------------------------------------------------------------
FIM_FILE = "steckbriefe_p0_0000.json"
KEY_A, KEY_B, KEY_C, KEY_D = (f"999000000001{i}0" for i in range(4))


def _fim_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    base = {name: None for name in fim.SCHEMA.names()}
    full = [
        {
            **base,
            "title": f"FIM-Titel {row['leika_key'].strip()}",
            "typisierung": ["2"],
            "leistungsadressat": ["Bürger", "Unternehmen"],
            "ozg_id": "90010",
            "ozg_leistung": "OZG-Leistung aus FIM",
            "themenfeld": "familie_kind",
            **row,
            "raw_file": FIM_FILE,
            "raw_sha256": "f1" * 32,
        }
        for row in rows
    ]
    schema = {**fim.SCHEMA, "raw_file": pl.String, "raw_sha256": pl.String}
    return pl.DataFrame(full, schema=schema, orient="row")


@pytest.fixture(scope="module")
def leistungen() -> tuple[pl.DataFrame, normalize.Normalized]:
    catalogue = _fim_frame(
        [
            {"leika_key": KEY_A, "leistungsbezeichnung": "Bezeichnung A"},
            {"leika_key": f" {KEY_B} "},
            {"leika_key": "9990000000010"},  # 13 digits
            {"leika_key": KEY_A, "title": "zweiter Eintrag A"},  # duplicate key
        ]
    )
    dashboard_rows = [
        ({"leika_key": KEY_A, "leika_name": "Dashboard-Name A", "ozgid": 91111}, None),
        ({"leika_key": KEY_C, "leika_name": "Name  C", "ozgid": 90003}, None),
        ({"leika_key": KEY_C, "leika_name": "Name C", "ozgid": 90003}, None),
        ({"leika_key": KEY_C, "leika_name": "Anderer Name C", "ozgid": 90003}, None),
        ({"leika_key": "ABC"}, None),  # invalid: quarantined with verfuegbarkeit, not here
    ]
    entries = _dashboard_frame(dashboard_rows)
    pvog_rows = _pvog_frame(
        [{"leika_key": KEY_A, "name": "PVOG-Name A"}, {"leika_key": KEY_D, "name": "PVOG-Name D"}]
    )
    return catalogue, normalize_leistungen(catalogue, entries, pvog_rows, SNAPSHOT, sample=True)


def test_leistungen_fim_is_authoritative(
    leistungen: tuple[pl.DataFrame, normalize.Normalized],
) -> None:
    _, result = leistungen
    assert result.table.schema == contracts.LEISTUNGEN_SCHEMA
    rows = {row["leika_key"]: row for row in result.table.iter_rows(named=True)}
    assert set(rows) == {KEY_A, KEY_B, KEY_C, KEY_D}
    a = rows[KEY_A]
    assert (a["leika_name"], a["leika_bezeichnung"]) == (f"FIM-Titel {KEY_A}", "Bezeichnung A")
    assert (a["ozg_id"], a["ozg_bezeichnung"]) == ("90010", "OZG-Leistung aus FIM")
    assert (a["typisierung"], a["leistungsadressat"]) == ("2", "Bürger;Unternehmen")
    assert (a["source"], a["in_fim"], a["in_dashboard"], a["in_pvog"]) == ("fim", True, True, True)
    assert a["raw_sha256"] == "f1" * 32
    assert (rows[KEY_B]["source"], rows[KEY_B]["in_dashboard"]) == ("fim", False)


def test_leistungen_fill_gaps_from_dashboard_and_pvog(
    leistungen: tuple[pl.DataFrame, normalize.Normalized],
) -> None:
    _, result = leistungen
    rows = {row["leika_key"]: row for row in result.table.iter_rows(named=True)}
    c = rows[KEY_C]
    # "Name  C" cleans to "Name C": the most frequent name wins.
    assert (c["source"], c["leika_name"], c["in_fim"], c["in_dashboard"]) == (
        "dashboard",
        "Name C",
        False,
        True,
    )
    assert (c["ozg_id"], c["raw_sha256"]) == ("90003", SHA)
    d = rows[KEY_D]
    assert (d["source"], d["leika_name"], d["in_pvog"], d["ozg_id"]) == (
        "pvog",
        "PVOG-Name D",
        True,
        None,
    )
    assert set(result.table["sample"]) == {True}


def test_leistungen_quarantines_invalid_and_duplicate_fim_keys(
    leistungen: tuple[pl.DataFrame, normalize.Normalized],
) -> None:
    catalogue, result = leistungen
    quarantine = result.quarantine.sort("reason_code")
    assert quarantine["reason_code"].to_list() == ["duplicate", "leika_invalid"]
    assert set(quarantine["source"]) == {"fim"}
    invalid = quarantine.row(1, named=True)
    assert "9990000000010" in invalid["message"]
    assert invalid["record_ref"] == f"{FIM_FILE} leistungsschluessel 9990000000010"
    assert json.loads(invalid["record"])["typisierung"] == ["2"]
    duplicate = quarantine.row(0, named=True)
    assert KEY_A in duplicate["message"] and "zweiter Eintrag A" in duplicate["record"]
    from_fim = result.table.filter(pl.col("source") == "fim").height
    assert catalogue.height == from_fim + quarantine.height


# -- normalize_gebiete on the real GV100AD -------------------------------------------------
@pytest.fixture(scope="module")
def gv100ad() -> pl.DataFrame:
    return gv100ad_frame()


@pytest.fixture(scope="module")
def gebiete_table(gv100ad: pl.DataFrame) -> normalize.Normalized:
    return normalize_gebiete(
        gv100ad, SNAPSHOT, raw_file="GV100AD_30112025.zip", raw_sha256=SHA, sample=True
    )


def _gebiet(table: pl.DataFrame, ars: str, ebene: str) -> dict[str, Any]:
    (row,) = table.filter((pl.col("ars") == ars) & (pl.col("ebene") == ebene)).iter_rows(named=True)
    return row


@pytest.mark.parametrize(
    ("ars", "ebene", "gebietstyp"),
    [
        ("064140000000", "Kreis", "kreisfreie Stadt"),  # Wiesbaden
        ("064140000000", "Gemeinde", "kreisfreie Stadt"),
        ("064360005005", "Gemeinde", "kreisangehörige Stadt"),  # Hattersheim am Main
        ("065310007007", "Gemeinde", "kreisangehörige Gemeinde"),  # Heuchelheim a. d. Lahn
        ("065310005005", "Gemeinde", "Sonderstatusstadt"),  # Gießen
        ("064390000000", "Kreis", "Landkreis"),  # Rheingau-Taunus-Kreis
        ("064319200200", "Gemeinde", "gemeindefreies Gebiet"),  # Michelbuch
        ("064360005000", "Gemeindeverband", "Gemeindeverband"),
        ("064000000000", "Regierungsbezirk", "Regierungsbezirk"),
        ("060000000000", "Land", "Land"),
    ],
)
def test_gebietstyp(
    gebiete_table: normalize.Normalized, ars: str, ebene: str, gebietstyp: str
) -> None:
    assert _gebiet(gebiete_table.table, ars, ebene)["gebietstyp"] == gebietstyp


def test_gebiete_keeps_every_gebietskoerperschaft(
    gv100ad: pl.DataFrame, gebiete_table: normalize.Normalized
) -> None:
    table = gebiete_table.table
    assert table.schema == contracts.GEBIETE_SCHEMA
    assert gebiete_table.quarantine.is_empty()
    records = [r for r in gv100ad.iter_rows(named=True) if r["satzart"] != "30"]
    assert table.height == len(records)  # Regionen (Satzart 30) have no ARS and are left out
    assert table.select("ars", "ebene").is_duplicated().sum() == 0
    assert set(table["source"]) == {"destatis_gv100ad"}


def test_landkreis_population_is_the_sum_of_its_gemeinden(
    gv100ad: pl.DataFrame, gebiete_table: normalize.Normalized
) -> None:
    totals: dict[str, int] = {}
    for record in gv100ad.iter_rows(named=True):
        if record["satzart"] == "60" and record["land"] == "06":
            kreis = record["ars"][:5]
            totals[kreis] = totals.get(kreis, 0) + (record["bevoelkerung"] or 0)
    kreise = gebiete_table.table.filter((pl.col("land") == "06") & (pl.col("ebene") == "Kreis"))
    assert kreise.height == 26
    for row in kreise.iter_rows(named=True):
        assert row["bevoelkerung"] == totals[row["ars"][:5]], row["name"]
    rtk = _gebiet(gebiete_table.table, "064390000000", "Kreis")
    assert rtk["bevoelkerung"] == totals["06439"] > 150_000


def test_parent_chain_of_hattersheim(gebiete_table: normalize.Normalized) -> None:
    row = _gebiet(gebiete_table.table, "064360005005", "Gemeinde")
    assert row["ags"] == "06436005"
    assert row["name"] == "Hattersheim am Main, Stadt"
    assert (
        row["verband_ars"],
        row["kreis_ars"],
        row["regierungsbezirk_ars"],
        row["land_ars"],
    ) == ("064360005000", "064360000000", "064000000000", "060000000000")
    assert row["bevoelkerung"] == 28467  # GV100AD 30.11.2025
