"""Parsers on the real embedded files and on crafted wire-format pages."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date

import polars as pl
import pytest

from sources import dashboard, destatis, fim, pvog
from sources.config import PILOT_ARS
from sources.contract import DriftLog, UnknownField
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


def test_gv100ad_record_length_error_explains_encoding_and_shift() -> None:
    good = GV100AD_TXT.read_text(encoding="utf-8").splitlines()[0]
    with pytest.raises(destatis.Gv100adFormatError) as caught:
        destatis.parse_gv100ad(good + "\n" + good + "x\n")
    message = str(caught.value)
    assert "positions count characters after decoding" in message
    assert "wrong encoding or a shifted/corrupt file" in message
    assert "ISO-8859-1" not in message


def _zip(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name.replace("__", "."), data)
    return buffer.getvalue()


def _wide_hessen_lines(count: int = 40) -> list[str]:
    """Satzart-60 lines of Hessen whose name has umlauts/ß (more bytes than characters)."""
    lines = [
        line
        for line in GV100AD_TXT.read_text(encoding="utf-8").splitlines()
        if line.startswith("60") and line[10:12] == "06" and len(line[22:72].encode()) > 50
    ]
    assert len(lines) >= count
    return lines[:count]


def test_gv100ad_asc_member_in_windows_1252_keeps_positions() -> None:
    lines = _wide_hessen_lines()
    body = _zip(GV100AD_311219__ASC="\r\n".join(lines).encode("cp1252"))

    member = destatis.extract_member(body)
    frame = destatis.parse_zip(body)

    assert (member.name, member.encoding) == ("GV100AD_311219.ASC", "cp1252")
    assert frame.height == len(lines)
    for row, line in zip(frame.iter_rows(named=True), lines, strict=True):
        assert row["name"] == line[22:72].strip()
        assert row["bevoelkerung"] == int(line[139:150])  # right after the umlauts
        assert row["plz"] == line[165:170]
    assert any(c in "äöüÄÖÜß" for c in "".join(frame["name"].to_list()))


def test_gv100ad_lowercase_asc_and_txt_preference_and_member_drift() -> None:
    lines = _wide_hessen_lines(3)
    assert destatis.extract_member(_zip(gv100ad_2012__asc=lines[0].encode("cp1252"))).text
    drift = DriftLog(destatis.SOURCE)
    body = _zip(
        GV100AD_31122024__ASC=lines[0].encode("cp1252"),
        GV100AD_31122024__txt="\n".join(lines).encode("utf-8"),
        Hinweise_GV100AD_31122024__txt=b"Hinweise",
        Datensatzbeschreibung__pdf=b"%PDF",
    )
    member = destatis.extract_member(body, url="https://destatis.example/x.zip", drift=drift)
    assert (member.name, member.encoding) == ("GV100AD_31122024.txt", "utf-8")
    assert [(f.field, f.records, f.first_record, f.url) for f in drift.fields()] == [
        ("zip/Datensatzbeschreibung.pdf", 1, "zip archive", "https://destatis.example/x.zip"),
        ("zip/GV100AD_31122024.ASC", 1, "zip archive", "https://destatis.example/x.zip"),
    ]


def test_gv100ad_member_neither_utf8_nor_windows_1252() -> None:
    # 0x81 is undefined in Windows-1252 and not valid UTF-8 on its own.
    body = _zip(GV100AD_31122023__txt=b"Gemeinde B\x81rstadt")
    with pytest.raises(destatis.Gv100adFormatError, match="neither UTF-8 nor Windows-1252"):
        destatis.parse_zip(body)


def test_gv100ad_edition_paths() -> None:
    archive = destatis.ARCHIVE
    assert destatis.edition_paths(date(2025, 12, 31)) == [
        f"{archive}/GV100ADJ/GV100AD_31122025.zip",
        f"{archive}/GV100ADJ/GV100AD31122025.zip",
    ]
    assert destatis.edition_paths(date(2026, 6, 30)) == [
        f"{archive}/GV100ADQ/GV100AD_30062026.zip",
        f"{archive}/GV100ADQ/GV100AD30062026.zip",
        f"{archive}/GV100ADQ/GV100AD3006.zip",
    ]
    assert destatis.annual_edition(date(2026, 3, 1)) == date(2025, 12, 31)


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
        ({k: v for k, v in _record().items() if k != "url"}, "missing column 'url' \\(required\\)"),
        (_record(ozgid="zehn"), "column 'ozgid' is not an integer"),
        (_record(ozgid=2**31), "column 'ozgid' is not an integer"),
        (_record(ozgid=True), "column 'ozgid' is not an integer"),
        (_record(online_status=1), "column 'online_status' is not a string"),
    ],
)
def test_dashboard_record_errors_name_record_and_column(record: dict, message: str) -> None:
    body = json.dumps({"content": [_record(), record], "totalPages": 1, "last": True}).encode()
    with pytest.raises(dashboard.DashboardFormatError, match=message) as caught:
        dashboard.parse_data_page(body, "https://api.example/v1/data/064360005005")
    assert "record 1 (leika_key 99910001001000)" in str(caught.value)
    assert "https://api.example/v1/data/064360005005" in str(caught.value)


def test_dashboard_record_contract_optional_and_unknown_fields() -> None:
    # Only the spec's non-nullable fields are required; an undeclared one is drift.
    minimal = {f: v for f, v in _record().items() if f in dashboard.REQUIRED_FIELDS}
    body = json.dumps(
        {"content": [minimal, _record(reifegrad=3, ozgid="90002")], "last": True}
    ).encode()
    drift = DriftLog("dashboard")
    frame, _ = dashboard.parse_data_page(body, "https://api.example/p", drift=drift)
    assert frame.schema == dashboard.SCHEMA
    assert frame.row(0, named=True) == {f: minimal.get(f) for f in dashboard.FIELDS}
    assert frame["ozgid"].to_list() == [None, 90002]
    assert "reifegrad" not in frame.columns
    assert drift.fields() == [
        UnknownField(
            "dashboard",
            "reifegrad",
            1,
            "record 1 (leika_key 99910001001000)",
            "https://api.example/p",
        )
    ]
    # Without a DriftLog the unknown field is ignored all the same.
    assert dashboard.parse_data_page(body, "u")[0].equals(frame)


def test_dashboard_required_fields_are_the_spec_non_nullable_ones() -> None:
    assert dashboard.REQUIRED_FIELDS == (
        "leika_key",
        "leika_name",
        "ars",
        "url",
        "online_status",
        "art_flaechendeckung",
    )
    assert set(dashboard.REQUIRED_FIELDS) | set(dashboard.OPTIONAL_FIELDS) == set(dashboard.FIELDS)


# The column order of a public (synthetic) mock of the export.
EXPORT_HEADER = (
    "leika_key;leika_name;ars;ars_name;ars_federal_state;bundesland;leika_bezeichnung;ozgid;"
    "ozg_bezeichnung;url;online_status;aktiv;art_flaechendeckung;"
    "begruendung_nicht_beruecksichtigt;export_datum;datenstand_pvog_import"
)
EXPORT_ROW = (
    "99910001001000;Hundesteuer Anmeldung;064360005005;Hattersheim am Main;06;Hessen;;90001;"
    "Hundesteuer;https://onlinedienst.example/hund;ok;ja;in mind. einer Kommune verfügbar;"
    ";;2026-10-28"
)


def _export(header: str = EXPORT_HEADER, *rows: str, delimiter: str = ";") -> str:
    lines = [header, *(rows or (EXPORT_ROW,))]
    return "\r\n".join(line.replace(";", delimiter) for line in lines) + "\r\n"


def test_dashboard_csv_export_reads_every_column_as_string() -> None:
    body = b"\xef\xbb\xbf" + _export().encode("utf-8")
    frame = dashboard.parse_export_csv(body, "u")
    assert frame.schema == dashboard.SCHEMA
    row = frame.row(0, named=True)
    assert row["leika_key"] == "99910001001000" and row["ars"] == "064360005005"
    assert row["ars_federal_state"] == "06"  # leading zeros kept
    assert row["ozgid"] == 90001
    assert row["leika_bezeichnung"] is None and row["export_datum"] is None  # empty = null
    assert row["art_flaechendeckung"] == "in mind. einer Kommune verfügbar"
    assert row["datenstand_pvog_import"] == "2026-10-28"


@pytest.mark.parametrize(
    "delimiter", [";", ",", "\t", "|"], ids=["semicolon", "comma", "tab", "pipe"]
)
def test_dashboard_csv_delimiter_is_detected_from_the_header(delimiter: str) -> None:
    text = _export(delimiter=delimiter).replace("mind. einer", "mind.einer")
    assert dashboard.detect_delimiter(text.split("\r\n")[0]) == delimiter
    frame = dashboard.parse_export_csv(text.encode(), "u")
    assert frame["url"].to_list() == ["https://onlinedienst.example/hund"]


def test_dashboard_csv_encodings() -> None:
    text = _export()
    for body, encoding in [
        (b"\xef\xbb\xbf" + text.encode("utf-8"), "utf-8-sig"),
        (text.encode("utf-8"), "utf-8"),
        (text.encode("cp1252"), "windows-1252"),
    ]:
        assert dashboard.decode_text(body, "u") == (text, encoding)
        frame = dashboard.parse_export_csv(body, "u")
        assert frame["art_flaechendeckung"].to_list() == ["in mind. einer Kommune verfügbar"]
    with pytest.raises(dashboard.DashboardFormatError, match=r"neither UTF-8 .* nor Windows-1252"):
        dashboard.parse_export_csv(text.encode("cp1252") + b"\x81", "u")


def test_dashboard_csv_quoting_and_line_ends() -> None:
    header = EXPORT_HEADER
    quoted = EXPORT_ROW.replace(
        "Hundesteuer Anmeldung", '"Hund; Katze, ""Maus""\r\nzweite Zeile"'
    ).replace(";;2026-10-28", ';"";2026-10-28')
    for line_end in ("\r\n", "\n"):
        body = (line_end.join([header, quoted, EXPORT_ROW]) + line_end).encode()
        frame = dashboard.parse_export_csv(body, "u")
        assert frame["leika_name"].to_list() == [
            'Hund; Katze, "Maus"\r\nzweite Zeile',
            "Hundesteuer Anmeldung",
        ]
        assert frame["export_datum"].to_list() == [None, None]  # a quoted empty cell too


def test_dashboard_csv_optional_columns_may_be_absent() -> None:
    required = ";".join(dashboard.REQUIRED_FIELDS)
    frame = dashboard.parse_export_csv(
        f"{required}\n99910001001000;Hund;064360005005;https://x.example;ok;flächendeckend\n".encode(),
        "u",
    )
    assert frame.height == 1 and frame.schema == dashboard.SCHEMA
    assert frame.select(dashboard.OPTIONAL_FIELDS).row(0) == (None,) * len(
        dashboard.OPTIONAL_FIELDS
    )


def test_dashboard_csv_unknown_column_goes_to_the_drift_log() -> None:
    text = _export(EXPORT_HEADER + ";barrierefrei", EXPORT_ROW + ";ja", EXPORT_ROW + ";nein")
    drift = DriftLog("dashboard")
    frame = dashboard.parse_export_csv(text.encode(), "https://api.example/export", drift=drift)
    assert frame.height == 2 and "barrierefrei" not in frame.columns
    assert drift.fields() == [
        UnknownField(
            "dashboard", "barrierefrei", 2, "header column 17", "https://api.example/export"
        )
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            _export(EXPORT_HEADER.replace("online_status", "status")),
            r"header: missing column 'online_status' \(required; header read as ';'-delimited",
        ),
        (
            _export(EXPORT_HEADER, EXPORT_ROW.replace(";90001;", ";9000l;")),
            r"record 0 \(leika_key 99910001001000\): column 'ozgid' is not an integer: '9000l'",
        ),
        (
            _export(EXPORT_HEADER, EXPORT_ROW, EXPORT_ROW + ";x"),
            r"record 1 \(leika_key 99910001001000\) \(line 3\): 17 fields, the header has 16",
        ),
        (_export(EXPORT_HEADER + ";ars"), "header: column 'ars' appears twice"),
        ("", "CSV export has no header line"),
        ("<!DOCTYPE html><html><body>Dashboard</body></html>", "got an HTML page"),
    ],
    ids=["missing-required", "ozgid", "ragged", "duplicate", "empty", "html"],
)
def test_dashboard_csv_errors_name_column_record_and_url(text: str, message: str) -> None:
    with pytest.raises(dashboard.DashboardFormatError, match=message) as caught:
        dashboard.parse_export_csv(text.encode(), "https://api.example/export")
    assert str(caught.value).startswith("dashboard: ")
    assert str(caught.value).endswith("(https://api.example/export)")


def test_dashboard_body_sniffing() -> None:
    page = json.dumps({"content": [_record()], "totalPages": 1, "last": True}).encode()
    csv_text = _export().encode()
    assert dashboard.sniff(page, "u") == "json"
    assert dashboard.sniff(page, "u", "application/octet-stream") == "json"  # the body decides
    assert dashboard.sniff(csv_text, "u", "application/octet-stream") == "csv"
    json_answer = dashboard.parse_data_body(page, "u", "application/json")
    csv_answer = dashboard.parse_data_body(csv_text, "u", "application/octet-stream")
    assert (json_answer.format, csv_answer.format) == ("json", "csv")
    assert json_answer.info is not None and csv_answer.info is None
    assert json_answer.frame.select("leika_key", "ozgid").equals(
        csv_answer.frame.select("leika_key", "ozgid")
    )
    for body in (b"\xef\xbb\xbf<!doctype html><html></html>", b"  <html lang=de>"):
        with pytest.raises(dashboard.DashboardFormatError, match="HTML page"):
            dashboard.parse_data_body(body, "u", "application/octet-stream")
    with pytest.raises(dashboard.DashboardFormatError, match="zip archive"):
        dashboard.parse_data_body(b"PK\x03\x04rest", "u")


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
    drift = DriftLog(fim.SOURCE)
    drifted = fim.parse_page(body.replace(b'"title"', b'"reifegrad": 3, "title"'), "u", drift=drift)
    assert drifted.equals(frame)  # an unknown field is noted, not fatal
    assert [(f.field, f.records, f.first_record) for f in drift.fields()] == [
        ("reifegrad", 1, "item 0 (leistungsschluessel 99910001001000)")
    ]


# -- FIM contract -------------------------------------------------------------------------
FIM_URL = "https://fim.example/api/v0/leistung-steckbriefe?offset=0&limit=200"
OZG = {
    "id": "90002",
    "leistung": "Hundesteuer",
    "themenfeld": "steuern_zoll",
    "themenfeld_label": "Steuern & Zoll",
    "vollzugsbehoerden": [],
}


def steckbrief(**changes: object) -> dict[str, object]:
    """A list item in the shape the live API answers (string key, one ozg object)."""
    item: dict[str, object] = {
        "leistungsschluessel": "99910001001000",
        "title": "Hundesteuer Anmeldung",
        "leistungsbezeichnung": "Hundesteuer Anmeldung",
        "leistungsbezeichnung_2": "Hund anmelden",
        "freigabe_status": 6,
        "geaendert_datum_zeit": "2025-05-01T10:00:00",
        "rechtsgrundlagen": None,
        "leistung_stammtexte": [["L100001", "L42"]],
        "ozg": dict(OZG),
    }
    item.update(changes)
    return item


def fim_body(*items: object, **envelope: object) -> bytes:
    return json.dumps({"items": list(items), "total_count": len(items), **envelope}).encode()


def test_fim_evidenced_item_shape() -> None:
    frame = fim.parse_page(fim_body(steckbrief()), FIM_URL)
    row = frame.row(0, named=True)
    assert frame.schema == fim.SCHEMA
    assert (row["leika_key"], row["ozg_id"], row["themenfeld"]) == (
        "99910001001000",
        "90002",
        "steuern_zoll",
    )
    # leistung_stammtexte pairs stand in for the absent redaktion_id / leistung_id.
    assert (row["redaktion_id"], row["leistung_id"]) == ("L100001", "L42")
    assert (row["typisierung"], row["leistungsadressat"]) == ([], [])
    # Fields of the item win over the pair when both are present.
    both = fim.parse_page(fim_body(steckbrief(redaktion_id="LeiKa", leistung_id="9")), FIM_URL)
    assert both.row(0, named=True)["redaktion_id"] == "LeiKa"
    assert both.row(0, named=True)["leistung_id"] == "9"


@pytest.mark.parametrize(
    ("ozg", "expected"),
    [
        (OZG, ["90002", "90002"]),
        (
            [
                {**OZG, "leistungsschluessel": "99910001002000", "id": 7},
                {**OZG, "leistungsschluessel": "99910001001000"},
            ],
            ["90002", "7"],  # the spec's OzgOut list maps per key
        ),
        (None, [None, None]),
        ([], [None, None]),
    ],
    ids=["object", "list", "null", "empty-list"],
)
def test_fim_ozg_as_object_list_or_null(ozg: object, expected: list[str | None]) -> None:
    item = steckbrief(leistungsschluessel=["99910001001000", "99910001002000"], ozg=ozg)
    frame = fim.parse_page(fim_body(item), FIM_URL)
    assert frame["leika_key"].to_list() == ["99910001001000", "99910001002000"]
    assert frame["ozg_id"].to_list() == expected


@pytest.mark.parametrize(
    ("keys", "expected"),
    [("99910001001000", ["99910001001000"]), (["99910001001000"], ["99910001001000"])],
    ids=["string", "list"],
)
def test_fim_leistungsschluessel_string_or_list(keys: object, expected: list[str]) -> None:
    frame = fim.parse_page(fim_body(steckbrief(leistungsschluessel=keys)), FIM_URL)
    assert frame["leika_key"].to_list() == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(["1", "2a"], ["1", "2a"]), ("3", ["3"]), (None, [])],
    ids=["list", "string", "null"],
)
def test_fim_typisierung_variants(value: object, expected: list[str]) -> None:
    frame = fim.parse_page(fim_body(steckbrief(typisierung=value)), FIM_URL)
    assert frame["typisierung"].to_list() == [expected]
    assert frame.schema["typisierung"] == pl.List(pl.String)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ozg": "90002"}, "field 'ozg' is not an object, a list of objects or null"),
        ({"ozg": [OZG, 3]}, "field 'ozg' is not an object, a list of objects or null"),
        ({"typisierung": [1]}, "field 'typisierung' is not a string, a list of strings or null"),
        ({"leistungsschluessel": 99910001001000}, "'leistungsschluessel' is not a non-empty"),
        ({"leistungsschluessel": ""}, "'leistungsschluessel' is not a non-empty"),
        ({"leistung_stammtexte": [["L1"]]}, "'leistung_stammtexte' is not a list of"),
        ({"freigabe_status": "6"}, "field 'freigabe_status' is not an integer or null"),
    ],
)
def test_fim_typed_fields_refuse_other_variants(change: dict, message: str) -> None:
    with pytest.raises(fim.FimFormatError, match=re.escape(message)) as caught:
        fim.parse_page(fim_body(steckbrief(), steckbrief(**change)), FIM_URL)
    assert str(caught.value).startswith("fim: item 1")
    assert FIM_URL in str(caught.value)


def test_fim_unknown_fields_go_to_the_drift_log() -> None:
    drift = DriftLog(fim.SOURCE)
    items = [
        steckbrief(),
        steckbrief(leistungsschluessel="99910001002000", reifegrad=3),
        steckbrief(
            leistungsschluessel="99910001003000",
            reifegrad=4,
            ozg={**OZG, "umsetzungsstatus": "online"},
        ),
    ]
    frame = fim.parse_page(fim_body(*items, naechste_seite=None), FIM_URL, drift=drift)
    assert frame.height == 3
    assert [(f.field, f.records, f.first_record, f.url) for f in drift.fields()] == [
        ("envelope.naechste_seite", 1, "response envelope", FIM_URL),
        ("ozg.umsetzungsstatus", 1, "item 2 (leistungsschluessel 99910001003000)", FIM_URL),
        ("reifegrad", 2, "item 1 (leistungsschluessel 99910001002000)", FIM_URL),
    ]
    # Without a log the unknown fields are tolerated just the same.
    assert fim.parse_page(fim_body(*items), FIM_URL).equals(frame)


def test_fim_spec_fields_are_all_accepted() -> None:
    drift = DriftLog(fim.SOURCE)
    item = {name: None for name in fim.ITEM_FIELDS} | {"leistungsschluessel": ["99910001001000"]}
    fim.parse_page(fim_body(item), FIM_URL, drift=drift)
    assert not drift


@pytest.mark.parametrize("field", ["leistungsschluessel"])
@pytest.mark.parametrize("how", ["absent", "null"])
def test_fim_missing_required_item_field(field: str, how: str) -> None:
    broken = steckbrief()
    if how == "absent":
        del broken[field]
    else:
        broken[field] = None
    with pytest.raises(fim.FimFormatError) as caught:
        fim.parse_page(fim_body(steckbrief(), broken), FIM_URL)
    assert str(caught.value) == (
        f"fim: item 1 (title 'Hundesteuer Anmeldung'): missing required field {field!r} ({FIM_URL})"
    )


@pytest.mark.parametrize("field", ["items", "total_count"])
def test_fim_missing_envelope_field(field: str) -> None:
    document = json.loads(fim_body(steckbrief()))
    del document[field]
    with pytest.raises(fim.FimFormatError) as caught:
        fim.page_info(json.dumps(document).encode(), FIM_URL)
    assert str(caught.value) == (
        f"fim: response envelope: missing required field {field!r} ({FIM_URL})"
    )


def test_fim_page_info_uses_the_requested_window() -> None:
    url = "https://fim.example/api/v0/leistung-steckbriefe?offset=4&limit=2&order_by=x"
    body = json.dumps({"items": [steckbrief()], "total_count": 5}).encode()
    info = fim.page_info(body, url)
    assert (info.number, info.count, info.total_elements, info.last) == (2, 1, 5, True)
    middle = url.replace("offset=4", "offset=2")
    more = fim.page_info(json.dumps({"items": [1, 2], "total_count": 5}).encode(), middle)
    assert (more.number, more.last, more.is_final(1)) == (1, False, False)
    # An empty page ends paging even though the total says more should come.
    empty = fim.page_info(b'{"items": [], "total_count": 5}', url)
    assert (empty.last, empty.is_final(2)) == (True, True)
    # The optional spec fields serve as a fallback when the URL has no window.
    spec = {"items": [1], "total_count": 3, "offset": 2, "limit": 1, "count": 1}
    assert fim.page_info(json.dumps(spec).encode(), "u").number == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'{"detail":[{"type":"less_than_equal","loc":["query","limit"],'
            b'"msg":"Input should be less than or equal to 200","input":"500"}]}',
            "query.limit: Input should be less than or equal to 200",
        ),
        (b'{"detail":"invalid offset/limit"}', "invalid offset/limit"),
        (b"<html>oops</html>", "<html>oops</html>"),
    ],
)
def test_fim_422_detail(body: bytes, expected: str) -> None:
    assert fim.describe_detail(body) == expected


# -- PVOG contract ------------------------------------------------------------------------
def _pvog_lines() -> list[str]:
    return PVOG_BUND_CSV.read_text(encoding="utf-8").split("\n")[:6]


def _insert_column(lines: list[str], position: int, name: str) -> bytes:
    out = []
    for number, line in enumerate(lines):
        if not line:
            continue
        fields = line.split("|")
        fields.insert(position, name if number == 0 else f"neu{number}")
        out.append("|".join(fields))
    return ("\n".join(out) + "\n").encode()


@pytest.mark.parametrize("position", [8, 3, 0], ids=["last", "middle", "first"])
def test_pvog_extra_column_is_drift_and_known_columns_stay_right(position: int) -> None:
    lines = _pvog_lines()
    expected = pvog.parse_csv("\n".join(lines).encode())
    drift = DriftLog(pvog.SOURCE)

    frame = pvog.parse_csv(_insert_column(lines, position, "Zuständigkeit"), "u", drift=drift)

    assert frame.equals(expected)
    assert [(f.field, f.records, f.first_record, f.url) for f in drift.fields()] == [
        ("Zuständigkeit", 5, f"header, column {position + 1}", "u")
    ]


def test_pvog_missing_and_doubled_columns_fail() -> None:
    header, *rows = _pvog_lines()
    without = "|".join(c for c in header.split("|") if c != "Updatedatum")
    body = "\n".join([without, *("|".join(r.split("|")[:4] + r.split("|")[5:]) for r in rows)])
    with pytest.raises(pvog.PvogFormatError, match="missing column 'Updatedatum' in header"):
        pvog.parse_csv(body.encode(), "u")
    doubled = _insert_column(_pvog_lines(), 8, "Name")
    with pytest.raises(pvog.PvogFormatError, match="column 'Name' appears twice"):
        pvog.parse_csv(doubled, "u")


def test_pvog_test_records() -> None:
    assert pvog.is_test_record("B100019.LB.TEST4711")
    assert pvog.is_test_record("test-lb-1")
    assert not pvog.is_test_record("B100019.LB.100372563")
    assert not pvog.is_test_record(None)
    frame = pvog.parse_csv(PVOG_BUND_CSV.read_bytes())
    assert frame.filter(pl.col("id_lb").str.contains(pvog.TEST_ID_REGEX)).is_empty()
    # The real export's one "Test…" is a Leistung name, not a test record.
    assert frame.filter(pl.col("name").str.contains(pvog.TEST_ID_REGEX)).height == 1


def test_pvog_updatedatum_is_one_batch_stamp() -> None:
    frame = pvog.parse_csv(PVOG_BUND_CSV.read_bytes())
    assert frame["updatedatum"].n_unique() == 1  # the import batch, not per-Leistung edits
