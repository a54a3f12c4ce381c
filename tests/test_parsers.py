"""Parsers on the real embedded files and on crafted wire-format pages."""

from __future__ import annotations

import io
import json
import zipfile

import polars as pl
import pytest

from sources import dashboard, destatis, fim, pvog
from sources.config import PILOT_ARS
from sources.sample.files import GV100AD_TXT, PVOG_BUND_CSV, gv100ad_frame


@pytest.fixture(scope="module")
def hessen() -> pl.DataFrame:
    return gv100ad_frame().filter(pl.col("land") == "06")


def _raw_record(ars: str) -> str:
    """The Satzart-60 line of ``ars``, found by character positions independently of the parser."""
    for line in GV100AD_TXT.read_text(encoding="utf-8").splitlines():
        key = line[10:12] + line[12] + line[13:15] + line[18:22] + line[15:18]
        if line.startswith("60") and key == ars:
            return line
    raise AssertionError(f"{ars} not in file")


def test_gv100ad_has_the_six_pilots(hessen: pl.DataFrame) -> None:
    found = hessen.filter(pl.col("ars").is_in(list(PILOT_ARS)))
    # Kreise as Satzart 40, kreisangehörige Gemeinden as Satzart 60, kreisfreie Städte as both.
    by_ars = {ars: sorted(group["satzart"].to_list()) for (ars,), group in found.group_by("ars")}
    assert by_ars == {
        "064140000000": ["40", "50", "60"],
        "066110000000": ["40", "50", "60"],
        "064360005005": ["60"],
        "065310007007": ["60"],
        "064390000000": ["40"],
        "064400000000": ["40"],
    }
    hattersheim = found.filter(pl.col("ars") == "064360005005").row(0, named=True)
    assert hattersheim["ags"] == "06436005"
    assert hattersheim["name"] == "Hattersheim am Main, Stadt"
    assert (hattersheim["flaeche_ha"], hattersheim["bevoelkerung"], hattersheim["plz"]) == (
        1580,
        28467,
        "65795",
    )
    heuchelheim = found.filter(pl.col("ars") == "065310007007").row(0, named=True)
    assert heuchelheim["name"] == "Heuchelheim a. d. Lahn"


def test_gv100ad_hessen_counts(hessen: pl.DataFrame) -> None:
    gemeinden = hessen.filter(pl.col("satzart") == "60")
    assert gemeinden.height == 425
    assert gemeinden.filter(pl.col("bevoelkerung") > 0).height == 421
    assert gemeinden.filter(pl.col("textkennzeichen") == "66").height == 4
    kreise = hessen.filter(pl.col("satzart") == "40")
    assert kreise.height == 26
    assert kreise["textkennzeichen"].value_counts().sort("textkennzeichen").rows() == [
        ("41", 5),
        ("44", 21),
    ]
    assert gemeinden["bevoelkerung"].sum() == 6_280_793
    assert gemeinden["flaeche_ha"].sum() == 2_111_570
    assert hessen.filter(pl.col("satzart") == "10")["ars"].to_list() == ["060000000000"]


def test_wiesbaden_population_matches_the_file(hessen: pl.DataFrame) -> None:
    line = _raw_record("064140000000")
    in_file = int(line[139:150])  # positions 140–150, Bevölkerung insgesamt
    parsed = hessen.filter((pl.col("ars") == "064140000000") & (pl.col("satzart") == "60"))
    assert parsed["bevoelkerung"].item() == in_file == 288_850


def test_positions_count_characters_not_bytes(hessen: pl.DataFrame) -> None:
    # Names with umlauts or ß take more bytes than characters; a byte-based reader
    # would shift population and PLZ of exactly these records.
    wide = hessen.filter(
        (pl.col("satzart") == "60")
        & (pl.col("name").str.len_bytes() > pl.col("name").str.len_chars())
    )
    assert wide.height > 50
    line = _raw_record(wide["ars"][0])
    assert wide["bevoelkerung"][0] == int(line[139:150])
    assert wide["plz"][0] == line[165:170]


def test_gv100ad_rejects_wrong_record_length() -> None:
    good = GV100AD_TXT.read_text(encoding="utf-8").splitlines()[0]
    with pytest.raises(destatis.Gv100adFormatError, match="line 2: record has 219 characters"):
        destatis.parse_gv100ad(good + "\n" + good[:-1] + "\n")


def test_gv100ad_zip_must_be_utf8() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("GV100AD_31122023.txt", "Gemeinde Bürstadt".encode("latin-1"))
    with pytest.raises(destatis.Gv100adFormatError, match="not UTF-8"):
        destatis.parse_zip(buffer.getvalue())


def test_pvog_bund_export_parses_to_933_rows() -> None:
    frame = pvog.parse_csv(PVOG_BUND_CSV.read_bytes())
    assert frame.height == 933
    assert frame["id_lb"].n_unique() == 911
    assert frame["leika_key"].n_unique() == 911
    assert frame["id_od"].drop_nulls().n_unique() == 223
    assert frame.filter(pl.col("id_od").is_not_null())["id_lb"].n_unique() == 352
    # Doubled inner quotes are unescaped; none survive.
    assert frame.filter(pl.col("name").str.contains('""', literal=True)).is_empty()
    assert frame.filter(pl.col("name").str.contains('"', literal=True)).height > 0
    assert frame.schema["updatedatum"] == pl.Datetime("us")
    assert frame["leika_key"].str.contains(r"^99\d{12}$").all()


def _record(**overrides: object) -> dict[str, object]:
    record: dict[str, object] = {
        "leika_key": "99910001001000",
        "leika_name": "Hundesteuer Anmeldung",
        "ars": "064360005005",
        "ars_name": "Hattersheim am Main",
        "ars_federal_state": "06",
        "bundesland": "Hessen",
        "leika_bezeichnung": None,
        "ozgid": 90001,
        "ozg_bezeichnung": "Hundesteuer",
        "url": "https://onlinedienst.example/hund",
        "online_status": "ok",
        "aktiv": "ja",
        "art_flaechendeckung": "in mind. einer Kommune verfügbar",
    }
    record.update(overrides)
    return record


def test_dashboard_classic_and_spring33_envelopes() -> None:
    classic = {
        "content": [_record()],
        "totalPages": 3,
        "totalElements": 5,
        "number": 2,
        "last": True,
    }
    frame, info = dashboard.parse_data_page(json.dumps(classic).encode(), "u")
    assert (info.number, info.total_elements, info.total_pages, info.last) == (2, 5, 3, True)
    assert frame.schema == dashboard.SCHEMA
    assert frame["ozgid"].to_list() == [90001]
    spring33 = {
        "content": [_record(datenstand_pvog_import="2026-10-28")],
        "page": {"size": 1, "number": 0, "totalElements": 1, "totalPages": 1},
    }
    frame, info = dashboard.parse_data_page(json.dumps(spring33).encode(), "u")
    assert (info.total_pages, info.last, info.is_final(0)) == (1, None, True)
    assert frame["datenstand_pvog_import"].to_list() == ["2026-10-28"]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({k: v for k, v in _record().items() if k != "url"}, "missing column 'url'"),
        (_record(reifegrad=3), "unexpected column 'reifegrad'"),
        (_record(ozgid="zehn"), "column 'ozgid' is not an integer"),
        (_record(online_status=1), "column 'online_status' is not a string"),
    ],
)
def test_dashboard_record_errors_name_record_and_column(record: dict, message: str) -> None:
    body = json.dumps({"content": [_record(), record], "totalPages": 1, "last": True}).encode()
    with pytest.raises(dashboard.DashboardFormatError, match=message) as caught:
        dashboard.parse_data_page(body, "https://api.example/v1/data/064360005005")
    assert "record 1 (leika_key 99910001001000)" in str(caught.value)
    assert "https://api.example/v1/data/064360005005" in str(caught.value)


def test_dashboard_page_without_paging_fields_is_refused() -> None:
    with pytest.raises(dashboard.DashboardFormatError, match="neither 'last' nor 'totalPages'"):
        dashboard.parse_envelope(b'{"content": []}', "u")


def test_ars_list_accepts_both_name_spellings() -> None:
    body = json.dumps(
        {
            "content": [
                {"ars": "060000000000", "arsName": "Hessen"},
                {"ars": "064140000000", "ars_name": "Wiesbaden"},
            ],
            "totalPages": 1,
            "last": True,
        }
    ).encode()
    frame, _ = dashboard.parse_ars_page(body, "u")
    assert frame.rows() == [("060000000000", "Hessen"), ("064140000000", "Wiesbaden")]


def test_fim_item_with_two_keys_gives_two_rows() -> None:
    item = {
        "redaktion_id": "LeiKa",
        "leistung_id": "1",
        "source": "leika",
        "title": "Hund",
        "leistungsschluessel": ["99910001001000", "99910001002000"],
        "typisierung": ["5"],
        "leistungsadressat": ["001"],
        "freigabe_status": 6,
        "ozg": [
            {
                "leistungsschluessel": "99910001002000",
                "id": "90002",
                "leistung": "Hundesteuer",
                "themenfeld": "steuern_zoll",
                "themenfeld_label": "Steuern & Zoll",
                "vollzugsbehoerden": [],
            }
        ],
    }
    body = json.dumps(
        {"items": [item], "offset": 0, "limit": 200, "count": 1, "total_count": 1}
    ).encode()
    frame = fim.parse_page(body, "u")
    assert frame["leika_key"].to_list() == ["99910001001000", "99910001002000"]
    assert frame["ozg_id"].to_list() == ["90002", "90002"]
    assert frame["typisierung"].to_list() == [["5"], ["5"]]
    info = fim.page_info(body, "u")
    assert (info.total_elements, info.last) == (1, True)
    with pytest.raises(fim.FimFormatError, match="unexpected field 'reifegrad'"):
        fim.parse_page(body.replace(b'"title"', b'"reifegrad": 3, "title"'), "u")
