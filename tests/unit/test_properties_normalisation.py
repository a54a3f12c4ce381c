"""Property tests of the normalisation rules and normalisers (issue 13, item 4).

For every normaliser (``normalize_verfuegbarkeit``, ``normalize_onlinedienste``,
``normalize_leistungen``, ``normalize_gebiete``) on generated frames of valid and hostile
values (keys with lost zeros, padding, letters, other scripts' digits, nulls; unknown enum
spellings; odd dates; duplicates on the grain):

* **no row is lost or invented**: every input row is in the table or in the quarantine,
  exactly once, found again by its record reference (raw file and record index or line).
  Duplicates are by design: the first row per grain is kept and the others are quarantined
  with reason ``duplicate``, so they are counted in the quarantine, not apart. The one
  exception is documented: ``gebiete`` leaves the Regionen (Satzart 30, no ARS, not a
  Gebietskörperschaft) out of the table, and they are counted here as that third part;
* every quarantined row has a reason code from the declared set (the ``Reason codes`` list
  of ``pipelines/normalisation/rules.py``), a non-empty message and a record reference;
* the table has the contract's schema and grain; in ``verfuegbarkeit`` and
  ``onlinedienste``, whose checks guard them, the contract's non-null columns hold no null.

The rules themselves are checked on arbitrary text (vectorised: one frame per example).

Settings: as in ``test_properties_parsers.py`` — bounded ``max_examples`` per test,
``deadline=None``, ``derandomize=True`` (implies ``database=None``): the same examples on CI
and every local run, nothing written to ``.hypothesis/``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from datetime import date, datetime
from typing import Any

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipelines.normalisation import normalize, rules
from pipelines.normalisation.normalizers.gebiete import normalize_gebiete
from pipelines.normalisation.normalizers.leistungen import normalize_leistungen
from pipelines.normalisation.normalizers.onlinedienste import normalize_onlinedienste
from pipelines.normalisation.normalizers.verfuegbarkeit import normalize_verfuegbarkeit
from pipelines.quality import contracts
from sources import dashboard, destatis, fim, ingest, pvog

BOUNDED = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def bounded(examples: int) -> settings:
    return settings(BOUNDED, max_examples=examples)


SNAPSHOT = date(2026, 2, 1)
SHA = "ab" * 32
# The declared reason set: the "Reason codes" list of the rules module's documentation.
REASON_CODES = frozenset(re.findall(r"^- ``(\w+)``:", rules.__doc__ or "", re.MULTILINE))
ASCII_LEIKA = re.compile(r"99[0-9]{12}")
ASCII_ARS = re.compile(r"[0-9]{12}")
# What polars' ``strip_chars()`` strips (Unicode White_Space); Python's ``str.strip()`` also
# strips the separators U+001C–U+001F.
WHITESPACE = "".join(
    c for c in map(chr, range(0x3001)) if c.isspace() and c not in "\x1c\x1d\x1e\x1f"
)


def strip(text: str) -> str:
    return text.strip(WHITESPACE)


def test_the_declared_reason_set() -> None:
    declared = set(REASON_CODES)
    assert declared == {
        "ars_invalid",
        "ars_not_in_gebietsstand",
        "leika_invalid",
        "enum_invalid",
        "date_invalid",
        "duplicate",
        "missing_key",
        "test_record",
    }


def check_quarantine(result: normalize.Normalized, table: str) -> None:
    quarantine = result.quarantine
    assert quarantine.schema == contracts.QUARANTINE_SCHEMA
    assert set(quarantine["reason_code"].to_list()) <= REASON_CODES
    for row in quarantine.iter_rows(named=True):
        assert row["table"] == table and row["snapshot"] == SNAPSHOT
        assert row["message"], row  # a readable message, never null or empty
        assert row["record_ref"], row
        json.loads(row["record"])


def check_table(result: normalize.Normalized, contract: contracts.TableContract) -> None:
    assert result.table.schema == contract.schema
    grain = list(contract.partition_grain)
    assert not result.table.select(grain).is_duplicated().any()  # one row per grain


def check_non_null(result: normalize.Normalized, contract: contracts.TableContract) -> None:
    nulls = result.table.select(pl.col(c).null_count() for c in contract.non_null).row(0)
    assert dict(zip(contract.non_null, nulls, strict=True)) == dict.fromkeys(contract.non_null, 0)


def refs(frame: pl.DataFrame, template: str, *columns: str) -> list[str]:
    return [template.format(*row) for row in frame.select(columns).iter_rows()]


def assert_each_row_once(inputs: list[str], table: list[str], quarantine: list[str]) -> None:
    """Every input row (by its reference) in the table or the quarantine, exactly once."""
    assert Counter(table) + Counter(quarantine) == Counter(inputs)
    assert len(inputs) == len(set(inputs))  # the references do identify rows


# -- values -----------------------------------------------------------------------------
PAD = st.sampled_from(["", " ", "  ", "\t"])
LEIKA_POOL = ["99900000000100", "99900000000200", "99911111111000"]


@st.composite
def leika_keys(draw: st.DrawFn) -> str | None:
    """A LeiKa key: one of a few valid ones (so rows collide on the grain), padded, or
    broken: too short, letters, other scripts' digits, empty, null."""
    kind = draw(st.sampled_from(["valid", "valid", "valid", "broken", "any"]))
    if kind == "valid":
        return draw(PAD) + draw(st.sampled_from(LEIKA_POOL)) + draw(PAD)
    if kind == "broken":
        return draw(
            st.sampled_from(
                [
                    None,
                    "",
                    "   ",
                    "9990000000000",  # 13 digits
                    "999000O0000000",  # letter O
                    "99" + "٠" * 12,  # Arabic-Indic digits match \d, not [0-9]
                    "99" + "０" * 12,  # fullwidth digits
                    "1" * 14,
                    "99900000000100\n",
                ]
            )
        )
    return draw(st.text(max_size=16))


GEBIETE_ARS = ["060000000000", "064360000000", "064360005005", "064140000000"]


@st.composite
def ars_values(draw: st.DrawFn) -> str | None:
    kind = draw(st.sampled_from(["known", "known", "repairable", "unknown", "broken", "any"]))
    if kind == "known":
        return draw(PAD) + draw(st.sampled_from([*GEBIETE_ARS, rules.BUND_ARS])) + draw(PAD)
    if kind == "repairable":
        return draw(st.sampled_from(["64360005005", "6", "06", "06436", " 64140000000 "]))
    if kind == "unknown":
        return draw(st.sampled_from(["069990000000", "064150000000", "16", "99999"]))
    if kind == "broken":
        return draw(
            st.sampled_from(
                [None, "", "0", "0643600050", "06436005", "0643-6000-5005", "٠٦٤٣٦٠٠٠٥٠٠٥"]
            )
        )
    return draw(st.text(max_size=14))


def _spellings(values: list[str]) -> st.SearchStrategy[str]:
    """The values as they may arrive: other case, padded, whitespace doubled, NFD."""
    return st.sampled_from(values).flatmap(
        lambda v: st.sampled_from(
            [v, v.upper(), f"  {v} ", v.replace(" ", "  "), unicodedata.normalize("NFD", v)]
        )
    )


ONLINE_STATUS = st.one_of(
    _spellings(list(rules.ONLINE_STATUS)), st.sampled_from([None, "", "unbekannt", "o k"])
)
AKTIV = st.one_of(st.none(), _spellings(list(rules.AKTIV)), st.sampled_from(["", "vielleicht"]))
FLAECHENDECKUNG = st.one_of(
    _spellings(list(rules.FLAECHENDECKUNG)),
    st.sampled_from([None, "", "teilweise flächendeckend"]),
)
DATES = st.one_of(
    st.none(),
    st.dates(date(1900, 1, 1), date(2100, 12, 31)).flatmap(
        lambda d: st.sampled_from(
            [d.isoformat(), d.strftime("%d.%m.%Y"), f"{d.isoformat()}T10:00:00Z"]
        )
    ),
    st.sampled_from(["", "10/28/2026", "28.10.26", "2026-13-01", "2026-02-30", "heute"]),
    st.text(max_size=12),
)
TEXT = st.one_of(st.none(), st.text(max_size=10), st.sampled_from(["", " ", "Fo\u0308rderung"]))
URLS = st.one_of(st.sampled_from(["https://a.example", " https://a.example ", None, ""]), TEXT)
RAW_FILES = ["data_064360005005_own_p0_0000.json", "export_064140000000_above.csv"]


def _with_record_index(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``record_index`` counts the records of each raw file, in order."""
    seen: Counter[str] = Counter()
    for row in rows:
        row["record_index"] = seen[row["raw_file"]]
        seen[row["raw_file"]] += 1
    return rows


@st.composite
def dashboard_entries(draw: st.DrawFn, max_size: int = 12) -> pl.DataFrame:
    """Entries as ``sources.ingest.read_dashboard`` returns them (parser schema + lineage)."""
    rows = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "leika_key": leika_keys(),
                    "leika_name": TEXT,
                    "ars": ars_values(),
                    "ars_name": TEXT,
                    "ars_federal_state": TEXT,
                    "bundesland": TEXT,
                    "leika_bezeichnung": TEXT,
                    "ozgid": st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)),
                    "ozg_bezeichnung": TEXT,
                    "url": URLS,
                    "online_status": ONLINE_STATUS,
                    "aktiv": AKTIV,
                    "art_flaechendeckung": FLAECHENDECKUNG,
                    "begruendung_nicht_beruecksichtigt": TEXT,
                    "export_datum": TEXT,
                    "datenstand_pvog_import": DATES,
                    "query_ars": st.sampled_from(["064360005005", "064140000000"]),
                    "include_above": st.booleans(),
                    "raw_file": st.sampled_from(RAW_FILES),
                    "raw_sha256": st.just(SHA),
                }
            ),
            max_size=max_size,
        )
    )
    schema = {**dashboard.SCHEMA, **ingest.LINEAGE}
    return pl.DataFrame(_with_record_index(rows), schema=schema, orient="row")


GEBIETE = pl.DataFrame(
    {"ars": GEBIETE_ARS, "ebene": ["Land", "Kreis", "Gemeinde", "Kreis"]}
).with_columns(pl.lit(date(2025, 11, 30)).alias("gebietsstand"))


# -- verfuegbarkeit ---------------------------------------------------------------------
def _entry(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = dict.fromkeys(dashboard.FIELDS)
    record |= {
        "leika_key": "99900000000100",
        "ars": "064360005005",
        "online_status": "ok",
        "art_flaechendeckung": "kreisweit flächendeckend",
    }
    lineage = {"query_ars": "064360005005", "include_above": False, "raw_file": RAW_FILES[0]}
    return record | lineage | {"raw_sha256": SHA} | changes


def _entries(*rows: dict[str, Any]) -> pl.DataFrame:
    schema = {**dashboard.SCHEMA, **ingest.LINEAGE}
    return pl.DataFrame(_with_record_index(list(rows)), schema=schema, orient="row")


@bounded(80)
@given(entries=dashboard_entries())
@example(entries=_entries(_entry(leika_key=None)))  # message was null: format() of a null
@example(entries=_entries(_entry(ars=None), _entry(art_flaechendeckung=None)))
@example(entries=_entries(_entry(leika_key="99" + "٠" * 12)))  # \d took Arabic-Indic digits
@example(entries=_entries(_entry(ars="٠٦٤٣٦٠٠٠٥٠٠٥")))
def test_verfuegbarkeit_every_entry_is_kept_or_quarantined(entries: pl.DataFrame) -> None:
    result = normalize_verfuegbarkeit(entries, SNAPSHOT, GEBIETE, sample=False)
    check_table(result, contracts.VERFUEGBARKEIT)
    check_non_null(result, contracts.VERFUEGBARKEIT)
    check_quarantine(result, "verfuegbarkeit")
    assert_each_row_once(
        refs(entries, "{} record {}", "raw_file", "record_index"),
        refs(result.table, "{} record {}", "raw_file", "record_index"),
        result.quarantine["record_ref"].to_list(),
    )
    # What reaches the table is valid: an ASCII LeiKa key, a known 12-digit ARS.
    assert all(ASCII_LEIKA.fullmatch(k) for k in result.table["leika_key"])
    known = {*GEBIETE_ARS, rules.BUND_ARS}
    assert all(ASCII_ARS.fullmatch(a) and a in known for a in result.table["ars"])
    # A duplicate names a kept row, and a working entry is never dropped for one that is not.
    kept = {
        tuple(row[c] for c in contracts.VERFUEGBARKEIT.partition_grain): row["online_status"]
        for row in result.table.iter_rows(named=True)
    }
    for row in result.quarantine.filter(pl.col("reason_code") == "duplicate").iter_rows(named=True):
        record = json.loads(row["record"])
        grain = tuple(record[c] for c in contracts.VERFUEGBARKEIT.partition_grain)
        assert grain in kept
        assert record["online_status"] != "ok" or kept[grain] == "ok"


# -- onlinedienste ----------------------------------------------------------------------
ID_LB = st.one_of(
    st.sampled_from(["B100019.LB.1", "B100019.LB.2", " B100019.LB.1 "]),
    st.sampled_from([None, "", "   ", "L100042.LB.TEST4711", "test-lb", "B1.LB.Testplattform"]),
    st.text(max_size=8),
)
ID_OD = st.one_of(st.sampled_from(["B100019.OD.1", "B100019.OD.2", None, ""]), TEXT)
PVOG_FILES = ["servicedescriptions_000000000000.csv", "servicedescriptions_060000000000.csv"]


@st.composite
def pvog_rows(draw: st.DrawFn, max_size: int = 12) -> pl.DataFrame:
    """Rows as ``sources.ingest.read_pvog`` returns them (parser schema + lineage)."""
    rows = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "id_lb": ID_LB,
                    "leika_key": leika_keys(),
                    "name": TEXT,
                    "name2": TEXT,
                    "updatedatum": st.one_of(st.none(), st.datetimes(datetime(2000, 1, 1))),
                    "id_od": ID_OD,
                    "bezeichnung_od": TEXT,
                    "links": URLS,
                    "raw_file": st.sampled_from(PVOG_FILES),
                }
            ),
            max_size=max_size,
        )
    )
    lines: Counter[str] = Counter()
    for row in rows:
        row["line_number"] = lines[row["raw_file"]] + 2
        lines[row["raw_file"]] += 1
        row["query_ars"] = row["raw_file"].removeprefix("servicedescriptions_")[:12]
        row["raw_sha256"] = SHA
    schema = {**pvog.SCHEMA, "query_ars": pl.String, "raw_file": pl.String, "raw_sha256": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _pvog_row(**changes: Any) -> pl.DataFrame:
    row: dict[str, Any] = dict.fromkeys(pvog.SCHEMA.names())
    row |= {"id_lb": "B100019.LB.1", "leika_key": LEIKA_POOL[0], "line_number": 2}
    row |= {"query_ars": "000000000000", "raw_file": PVOG_FILES[0], "raw_sha256": SHA} | changes
    schema = {**pvog.SCHEMA, "query_ars": pl.String, "raw_file": pl.String, "raw_sha256": pl.String}
    return pl.DataFrame([row], schema=schema, orient="row")


@bounded(80)
@given(rows=pvog_rows())
@example(rows=_pvog_row(leika_key=None))  # message was null: format() of a null
@example(rows=_pvog_row(leika_key="99" + "٠" * 12))  # \d took Arabic-Indic digits
def test_onlinedienste_every_row_is_kept_or_quarantined(rows: pl.DataFrame) -> None:
    result = normalize_onlinedienste(rows, SNAPSHOT, sample=True)
    check_table(result, contracts.ONLINEDIENSTE)
    check_non_null(result, contracts.ONLINEDIENSTE)
    check_quarantine(result, "onlinedienste")
    assert_each_row_once(
        refs(rows, "{} line {}", "raw_file", "line_number"),
        refs(result.table, "{} line {}", "raw_file", "line_number"),
        result.quarantine["record_ref"].to_list(),
    )
    assert all(ASCII_LEIKA.fullmatch(k) for k in result.table["leika_key"])
    assert not any(pvog.is_test_record(i) for i in result.table["id_lb"])


# -- leistungen -------------------------------------------------------------------------
FIM_FILE = "steckbriefe_p0_0000.json"


@st.composite
def fim_catalogues(draw: st.DrawFn) -> pl.DataFrame:
    """Rows as ``sources.ingest.read_fim`` returns them: a key is a non-blank string (the
    parser refuses anything else), every other field may be missing."""
    key = st.one_of(
        leika_keys().filter(lambda k: k is not None and k.strip() != ""),
        st.text(min_size=1, max_size=14).filter(str.strip),
    )
    rows = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "leika_key": key,
                    "title": TEXT,
                    "leistungsbezeichnung": TEXT,
                    "ozg_id": st.one_of(st.none(), st.sampled_from(["90001", " 90002 "])),
                    "ozg_leistung": TEXT,
                    "themenfeld": TEXT,
                    "typisierung": st.lists(st.sampled_from(["1", "2a", "3"]), max_size=2),
                    "leistungsadressat": st.lists(st.text(max_size=4), max_size=2),
                }
            ),
            max_size=8,
        )
    )
    full = [
        dict.fromkeys(fim.SCHEMA.names()) | row | {"raw_file": FIM_FILE, "raw_sha256": SHA}
        for row in rows
    ]
    schema = {**fim.SCHEMA, "raw_file": pl.String, "raw_sha256": pl.String}
    return pl.DataFrame(full, schema=schema, orient="row")


def _valid_keys(frame: pl.DataFrame) -> set[str]:
    keys = (strip(k) for k in frame["leika_key"].drop_nulls())
    return {k for k in keys if ASCII_LEIKA.fullmatch(k)}


def _fim(**changes: Any) -> pl.DataFrame:
    row = dict.fromkeys(fim.SCHEMA.names()) | {"leika_key": LEIKA_POOL[0], "typisierung": []}
    row |= {"leistungsadressat": [], "raw_file": FIM_FILE, "raw_sha256": SHA} | changes
    schema = {**fim.SCHEMA, "raw_file": pl.String, "raw_sha256": pl.String}
    return pl.DataFrame([row], schema=schema, orient="row")


NO_ENTRIES = _entries()
NO_PVOG = pl.DataFrame(
    schema={**pvog.SCHEMA, "query_ars": pl.String, "raw_file": pl.String, "raw_sha256": pl.String}
)


@bounded(60)
@given(
    catalogue=fim_catalogues(),
    entries=dashboard_entries(max_size=6),
    pvog_frame=pvog_rows(max_size=6),
)
@example(catalogue=_fim(title=None), entries=NO_ENTRIES, pvog_frame=NO_PVOG)  # not in_fim
@example(  # a Dashboard entry without a name: in_dashboard was false, source 'pvog'
    catalogue=_fim(leika_key="99900000000200", title="A"),
    entries=_entries(_entry(leika_name=None)),
    pvog_frame=NO_PVOG,
)
def test_leistungen_every_catalogue_item_is_kept_or_quarantined(
    catalogue: pl.DataFrame, entries: pl.DataFrame, pvog_frame: pl.DataFrame
) -> None:
    result = normalize_leistungen(catalogue, entries, pvog_frame, SNAPSHOT, sample=False)
    check_table(result, contracts.LEISTUNGEN)
    check_quarantine(result, "leistungen")
    table = result.table
    # The catalogue: each item kept (one per key) or quarantined (invalid key, duplicate).
    stripped = [strip(k) for k in catalogue["leika_key"]]
    quarantined = [strip(json.loads(r)["leika_key"]) for r in result.quarantine["record"]]
    in_fim = table.filter(pl.col("in_fim"))["leika_key"].to_list()
    assert Counter(in_fim) + Counter(quarantined) == Counter(stripped)
    # Every valid key of any source has its one row, flagged by where it was seen.
    fim_keys, db_keys, pvog_keys = (_valid_keys(f) for f in (catalogue, entries, pvog_frame))
    assert set(table["leika_key"]) == fim_keys | db_keys | pvog_keys
    for row in table.iter_rows(named=True):
        key = row["leika_key"]
        assert (row["in_fim"], row["in_dashboard"], row["in_pvog"]) == (
            key in fim_keys,
            key in db_keys,
            key in pvog_keys,
        ), row
        expected = "fim" if key in fim_keys else "dashboard" if key in db_keys else "pvog"
        assert row["source"] == expected, row


# -- gebiete ----------------------------------------------------------------------------
@st.composite
def gv100ad_frames(draw: st.DrawFn) -> pl.DataFrame:
    """Records as ``destatis.parse_gv100ad`` returns them, with keys from small pools so
    that two records of one ARS and Ebene occur (a corrupt or doubled file)."""
    rows = []
    for number in range(1, draw(st.integers(0, 14)) + 1):
        satzart = draw(st.sampled_from(sorted(destatis.SATZART)))
        land = draw(st.sampled_from(["06", "08"]))
        rb = draw(st.sampled_from(["4", "5"]))
        kreis, verband = (
            draw(st.sampled_from(["36", "14"])),
            draw(st.sampled_from(["0005", "9200"])),
        )
        gemeinde = draw(st.sampled_from(["005", "200"]))
        ars = {
            "10": land + "0" * 10,
            "20": land + rb + "0" * 9,
            "30": None,
            "40": land + rb + kreis + "0" * 7,
            "50": land + rb + kreis + verband + "000",
            "60": land + rb + kreis + verband + gemeinde,
        }[satzart]
        is_gemeinde = satzart == "60"
        population = draw(st.one_of(st.none(), st.integers(0, 10**7))) if is_gemeinde else None
        rows.append(
            {
                "satzart": satzart,
                "ebene": destatis.SATZART[satzart],
                "gebietsstand": date(2025, 11, 30),
                "ars": ars,
                "ags": land + rb + kreis + (gemeinde if is_gemeinde else "")
                if satzart in ("40", "60")
                else None,
                "land": land,
                "regierungsbezirk": rb,
                "kreis": kreis if satzart >= "40" else None,
                "gemeindeverband": verband if satzart in ("50", "60") else None,
                "gemeinde": gemeinde if is_gemeinde else None,
                "name": draw(st.text(min_size=1, max_size=10).filter(str.strip)),
                "sitz": None,
                "textkennzeichen": draw(st.sampled_from([None, "41", "44", "61", "63", "66"])),
                "textkennzeichen_label": None,
                "flaeche_ha": population,
                "bevoelkerung": population,
                "bevoelkerung_maennlich": None,
                "plz": None,
                "mehrere_plz": False if is_gemeinde else None,
                "line_number": number,
            }
        )
    return pl.DataFrame(rows, schema=destatis.SCHEMA, orient="row")


@bounded(50)
@given(gv100ad=gv100ad_frames())
def test_gebiete_every_record_is_kept_quarantined_or_a_region(gv100ad: pl.DataFrame) -> None:
    result = normalize_gebiete(
        gv100ad, SNAPSHOT, raw_file="GV100AD_30112025.zip", raw_sha256=SHA, sample=False
    )
    check_table(result, contracts.GEBIETE)
    check_quarantine(result, "gebiete")
    regions = gv100ad.filter(pl.col("satzart") == "30")
    # Regionen are left out by design (no ARS); every other record is kept or a duplicate.
    assert gv100ad.height == result.table.height + result.quarantine.height + regions.height
    assert set(result.quarantine["reason_code"]) <= {"duplicate"}
    # The first record per (ARS, Ebene) is kept; the later ones are quarantined by line.
    records = gv100ad.filter(pl.col("satzart") != "30").sort("line_number")
    later = records.filter(pl.int_range(pl.len()).over("ars", "ebene") > 0)
    assert sorted(result.quarantine["record_ref"]) == sorted(
        f"line {n}" for n in later["line_number"]
    )
    first = records.unique(["ars", "ebene"], keep="first", maintain_order=True)
    assert sorted(result.table.select("ars", "ebene").rows()) == sorted(
        first.select("ars", "ebene").rows()
    )


# -- end to end: a parsed Dashboard page into the table or the quarantine --------------
@bounded(30)
@given(entries=dashboard_entries(max_size=8))
def test_a_parsed_dashboard_page_loses_no_record(entries: pl.DataFrame) -> None:
    records = entries.select(dashboard.FIELDS).to_dicts()
    body = json.dumps({"content": records, "totalPages": 1, "last": True}).encode()
    frame, _ = dashboard.parse_data_page(body, "https://dashboard.example/p?page=0")
    parsed = frame.with_columns(
        pl.lit("064360005005").alias("query_ars"),
        pl.lit(False).alias("include_above"),
        pl.lit(RAW_FILES[0]).alias("raw_file"),
        pl.lit(SHA).alias("raw_sha256"),
        pl.int_range(pl.len(), dtype=pl.Int32).alias("record_index"),
    )
    result = normalize_verfuegbarkeit(parsed, SNAPSHOT, GEBIETE, sample=False)
    assert result.table.height + result.quarantine.height == len(records)
    check_quarantine(result, "verfuegbarkeit")


# -- the rules on arbitrary text --------------------------------------------------------
def _apply(rule: Any, values: list[str | None], dtype: pl.DataType = pl.String) -> list[Any]:
    frame = pl.DataFrame({"v": values}, schema={"v": dtype})
    return frame.select(rule(pl.col("v")).alias("v"))["v"].to_list()


RULE_TEXT = st.lists(
    st.one_of(st.none(), st.text(max_size=14), ars_values(), leika_keys()), max_size=20
)


@bounded(100)
@given(values=RULE_TEXT)
@example(values=["٠٦٤٣٦٠٠٠٥٠٠٥", "٦", "６４３６０００５００５"])  # other scripts' digits
def test_repair_ars_gives_twelve_ascii_digits_or_null(values: list[str | None]) -> None:
    for raw, repaired in zip(values, _apply(rules.repair_ars, values), strict=True):
        assert repaired is None or ASCII_ARS.fullmatch(repaired), (raw, repaired)
        if raw is not None and ASCII_ARS.fullmatch(raw.strip(" ")):
            assert repaired == raw.strip(" ")  # a well-formed ARS is kept as it is


@bounded(100)
@given(values=RULE_TEXT)
@example(values=["99" + "٠" * 12, "99" + "０" * 12])
def test_leika_pattern_accepts_ascii_keys_only(values: list[str | None]) -> None:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    matched = frame.select(pl.col("v").str.contains(rules.LEIKA_PATTERN))["v"].to_list()
    for value, match in zip(values, matched, strict=True):
        assert match == (None if value is None else bool(ASCII_LEIKA.fullmatch(value))), value


@bounded(100)
@given(values=st.lists(st.one_of(DATES, st.text(max_size=25)), max_size=20))
def test_parse_date_reads_the_explicit_formats_or_gives_null(values: list[str | None]) -> None:
    for raw, parsed in zip(values, _apply(rules.parse_date, values), strict=True):
        assert parsed is None or isinstance(parsed, date)
        if raw is None:
            continue
        text = raw.strip(" \t\n\r")
        for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
            try:
                expected = datetime.strptime(text, fmt).date()
            except ValueError:
                continue
            if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{2}\.[0-9]{2}\.[0-9]{4}", text):
                assert parsed == expected, raw


@bounded(80)
@given(values=st.lists(st.one_of(ONLINE_STATUS, AKTIV, FLAECHENDECKUNG, TEXT), max_size=20))
def test_enums_map_into_their_closed_sets(values: list[str | None]) -> None:
    for mapping in (rules.ONLINE_STATUS, rules.FLAECHENDECKUNG):
        allowed = set(mapping.values())
        for raw, mapped in zip(
            values, _apply(lambda e, m=mapping: rules.map_enum(e, m), values), strict=True
        ):
            assert mapped is None or mapped in allowed
            if raw is None or re.search("[\x1c-\x1f]", raw):  # whitespace to Python only
                continue
            canonical = " ".join(unicodedata.normalize("NFC", raw).split()).lower()
            if canonical in mapping:
                assert mapped == mapping[canonical], raw


@bounded(80)
@given(values=st.lists(TEXT, max_size=20))
def test_clean_text_is_idempotent_and_never_empty(values: list[str | None]) -> None:
    cleaned = _apply(rules.clean_text, values)
    assert all(c is None or c for c in cleaned)
    assert _apply(rules.clean_text, cleaned) == cleaned
