"""Destatis Gemeindeverzeichnis GV100AD: zip download and fixed-width parser.

Layout: ``../shared/docs/sources.md`` §4 (from the official Datensatzbeschreibung).
Every record is 220 *characters* after UTF-8 decoding; positions count characters,
not bytes, so the file is decoded first and then sliced. Key fields stay strings so
leading zeros survive.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date

import polars as pl

from sources.config import HttpSettings
from sources.http import Fetched, HttpClient, SourceError

SOURCE = "destatis_gv100ad"
RECORD_LENGTH = 220

# Annual edition as of 31.12. of the previous year: a stable, documented URL.
ANNUAL_PATH = (
    "/DE/Themen/Laender-Regionen/Regionales/Gemeindeverzeichnis/Administrativ/Archiv/"
    "GV100ADJ/GV100AD3112{year}.zip"
)

SATZART = {
    "10": "Land",
    "20": "Regierungsbezirk",
    "30": "Region",
    "40": "Kreis",
    "50": "Gemeindeverband",
    "60": "Gemeinde",
}

TEXTKENNZEICHEN = {
    "41": "Kreisfreie Stadt",
    "42": "Stadtkreis",
    "43": "Kreis",
    "44": "Landkreis",
    "45": "Regionalverband",
    "50": "verbandsfreie Gemeinde",
    "51": "Amt",
    "52": "Samtgemeinde",
    "53": "Verbandsgemeinde",
    "54": "Verwaltungsgemeinschaft",
    "55": "Kirchspielslandgemeinde",
    "56": "Verwaltungsverband",
    "57": "Verbandsgemeinde als Trägermodell",
    "58": "Erfüllende Gemeinde",
    "60": "Markt",
    "61": "Kreisfreie Stadt",
    "62": "Stadtkreis",
    "63": "Stadt",
    "64": "Kreisangehörige Gemeinde",
    "65": "gemeindefreies Gebiet, bewohnt",
    "66": "gemeindefreies Gebiet, unbewohnt",
    "67": "Große Kreisstadt",
}

SCHEMA = pl.Schema(
    {
        "satzart": pl.String,
        "ebene": pl.String,
        "gebietsstand": pl.Date,
        "ars": pl.String,
        "ags": pl.String,
        "land": pl.String,
        "regierungsbezirk": pl.String,
        "kreis": pl.String,
        "gemeindeverband": pl.String,
        "gemeinde": pl.String,
        "name": pl.String,
        "sitz": pl.String,
        "textkennzeichen": pl.String,
        "textkennzeichen_label": pl.String,
        "flaeche_ha": pl.Int64,
        "bevoelkerung": pl.Int64,
        "bevoelkerung_maennlich": pl.Int64,
        "plz": pl.String,
        "mehrere_plz": pl.Boolean,
        "line_number": pl.Int64,
    }
)


class Gv100adFormatError(ValueError):
    pass


def _field(line: str, start: int, end: int) -> str:
    """1-based inclusive character positions, as in the Datensatzbeschreibung."""
    return line[start - 1 : end].strip()


def _number(text: str, line_number: int, name: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise Gv100adFormatError(
            f"{SOURCE}: line {line_number}: field {name} is not a number: {text!r}"
        )
    return int(text)


def parse_gv100ad(text: str) -> pl.DataFrame:
    """Parse the decoded GV100AD text into one row per record with derived ARS/AGS."""
    rows: list[dict[str, object]] = []
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.rstrip("\r")
        if not line.strip():
            continue
        if len(line) != RECORD_LENGTH:
            raise Gv100adFormatError(
                f"{SOURCE}: line {number}: record has {len(line)} characters, expected "
                f"{RECORD_LENGTH} (is the file decoded as UTF-8?)"
            )
        satzart = line[0:2]
        if satzart not in SATZART:
            raise Gv100adFormatError(f"{SOURCE}: line {number}: unknown Satzart {satzart!r}")
        stand = line[2:10]
        land, rb, kreis = _field(line, 11, 12), _field(line, 13, 13), _field(line, 14, 15)
        gemeinde, verband = _field(line, 16, 18), _field(line, 19, 22)
        if satzart == "10":
            ars, ags = land + "0" * 10, None
        elif satzart == "20":
            ars, ags = land + rb + "0" * 9, None
        elif satzart == "30":
            ars, ags = None, None  # Regionen (Baden-Württemberg) have no ARS of their own
        elif satzart == "40":
            ars, ags = land + rb + kreis + "0" * 7, land + rb + kreis
        elif satzart == "50":
            ars, ags = land + rb + kreis + verband + "000", None
        else:
            # ARS order: Land, RB, Kreis, *Verband*, Gemeinde (Verband precedes Gemeinde).
            ars, ags = land + rb + kreis + verband + gemeinde, land + rb + kreis + gemeinde
        is_gemeinde = satzart == "60"
        textkennzeichen = _field(line, 123, 124) or None
        rows.append(
            {
                "satzart": satzart,
                "ebene": SATZART[satzart],
                "gebietsstand": date(int(stand[:4]), int(stand[4:6]), int(stand[6:8])),
                "ars": ars,
                "ags": ags,
                "land": land,
                "regierungsbezirk": rb or None,
                "kreis": kreis or None,
                "gemeindeverband": verband or None,
                "gemeinde": gemeinde or None,
                "name": _field(line, 23, 72),
                "sitz": _field(line, 73, 122) or None,
                "textkennzeichen": textkennzeichen,
                "textkennzeichen_label": TEXTKENNZEICHEN.get(textkennzeichen or ""),
                "flaeche_ha": _number(_field(line, 129, 139), number, "Fläche")
                if is_gemeinde
                else None,
                "bevoelkerung": _number(_field(line, 140, 150), number, "Bevölkerung")
                if is_gemeinde
                else None,
                "bevoelkerung_maennlich": _number(
                    _field(line, 151, 161), number, "Bevölkerung männlich"
                )
                if is_gemeinde
                else None,
                "plz": (_field(line, 166, 170) or None) if is_gemeinde else None,
                "mehrere_plz": (_field(line, 171, 175) == "*****") if is_gemeinde else None,
                "line_number": number,
            }
        )
    if not rows:
        raise Gv100adFormatError(f"{SOURCE}: file contains no records")
    return pl.DataFrame(rows, schema=SCHEMA)


def extract_txt(zip_bytes: bytes) -> tuple[str, str]:
    """The GV100AD text member of a Destatis zip as (member name, decoded text)."""
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        members = [
            n for n in archive.namelist() if n.upper().startswith("GV100AD") and n.endswith(".txt")
        ]
        if not members:
            raise Gv100adFormatError(
                f"{SOURCE}: zip holds no GV100AD_*.txt member: {archive.namelist()}"
            )
        data = archive.read(members[0])
    try:
        return members[0], data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Gv100adFormatError(
            f"{SOURCE}: {members[0]} is not UTF-8 (editions before 2025 were ISO-8859-1): {exc}"
        ) from exc


def parse_zip(zip_bytes: bytes) -> pl.DataFrame:
    return parse_gv100ad(extract_txt(zip_bytes)[1])


class DestatisClient:
    def __init__(self, base_url: str, http: HttpClient) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http

    @classmethod
    def create(cls, base_url: str, settings: HttpSettings, session=None) -> DestatisClient:
        return cls(base_url, HttpClient(SOURCE, settings, session))

    def edition_url(self, snapshot: date) -> str:
        return self.base_url + ANNUAL_PATH.format(year=snapshot.year - 1)

    def fetch_edition(self, snapshot: date, validators: dict[str, str] | None = None) -> Fetched:
        fetched = self.http.get(
            self.edition_url(snapshot),
            params={"__blob": "publicationFile"},
            expect="zip",
            validators=validators,
        )
        if not fetched.not_modified:
            try:
                extract_txt(fetched.body)
            except Gv100adFormatError as exc:
                raise SourceError(SOURCE, fetched.url, str(exc)) from exc
        return fetched
