"""Destatis Gemeindeverzeichnis GV100AD: zip download and fixed-width parser.

Layout: the official Datensatzbeschreibung (``docs/sources.md`` §4b). Every
record is 220 *characters*; positions count characters after decoding, not bytes, so
the member is decoded first and then sliced. Key fields stay strings so leading zeros
survive. The contract (``docs/contracts/destatis.md``, evidence tagged CODE / LIVE):

* **URL.** The annual edition 31.12.YYYY lives in ``…/Archiv/GV100ADJ/``; editions
  2018–2024 are named ``GV100AD3112YYYY.zip``, the 31.12.2025 edition
  ``GV100AD_31122025.zip`` (underscore). Both forms are tried in that order (underscore
  first); a 404 (also 403/410) or an HTML page instead of the zip moves to the next, and
  when every form fails the error lists each URL tried with its outcome. No ``v=N``
  parameter is sent: a stale one answers with an HTML page. An edition other than
  31.12. (``OZG_GV100AD_EDITION``) is looked up in the quarterly folder ``GV100ADQ`` with
  the same two forms plus the year-less ``GV100ADDDMM.zip`` (unverified).
* **Member.** ``GV100AD*.txt`` (since about 2021) or ``GV100AD*.ASC`` / ``.asc`` (before).
* **Encoding.** UTF-8 (since about 2019), else Windows-1252 (older editions); the one
  used is reported. A record of the wrong length means a wrong encoding or a shifted or
  corrupt file (one corrupt quarterly file, Q2 2026, has been reported).
* **Drift.** Unexpected further members of the zip are noted in the caller's
  :class:`~sources.contract.DriftLog`, not refused.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import polars as pl

from sources.config import HttpSettings
from sources.contract import DriftLog
from sources.http import Fetched, HttpClient, SourceError

SOURCE = "destatis_gv100ad"
RECORD_LENGTH = 220

ARCHIVE = "/DE/Themen/Laender-Regionen/Regionales/Gemeindeverzeichnis/Administrativ/Archiv"
# Annual edition as of 31.12.{year}, in the order the forms are tried.
ANNUAL_PATH = ARCHIVE + "/GV100ADJ/GV100AD_3112{year}.zip"  # 31.12.2025 edition (CODE)
ANNUAL_PATH_2018 = ARCHIVE + "/GV100ADJ/GV100AD3112{year}.zip"  # editions 2018–2024 (CODE)
ANNUAL_PATHS = (ANNUAL_PATH, ANNUAL_PATH_2018)
# Any other Gebietsstand: the quarterly archive (unverified), {stamp} = DDMMYYYY. The
# year-less form (CODE, 31.10.2026) only ever holds the current year's file.
YEARLESS_PATH = ARCHIVE + "/GV100ADQ/GV100AD{ddmm}.zip"
QUARTERLY_PATHS = (
    ARCHIVE + "/GV100ADQ/GV100AD_{stamp}.zip",
    ARCHIVE + "/GV100ADQ/GV100AD{stamp}.zip",
    YEARLESS_PATH,
)
ENCODINGS = ("utf-8", "cp1252")  # tried in this order
MEMBER_PATTERN = re.compile(r"GV100AD[^/]*\.(txt|asc)", re.IGNORECASE)
# Statuses after which the next URL form is tried: "not here" rather than "not now".
MOVE_ON_STATUSES = (403, 404, 410)
# What zipfile raises on a truncated or corrupt archive (bad headers, bad deflate data, a
# short read, an unsupported compression or an encrypted member).
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    OSError,
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
    if not (text.isascii() and text.isdigit()):  # '²'.isdigit() is true, int('²') fails
        raise Gv100adFormatError(
            f"{SOURCE}: line {line_number}: field {name} is not a number: {text!r}"
        )
    return int(text)


def _gebietsstand_of(line: str, line_number: int) -> date:
    """Positions 3–10, ``YYYYMMDD``: eight ASCII digits forming a real date."""
    stamp = line[2:10]
    try:
        if not (stamp.isascii() and stamp.isdigit()):
            raise ValueError("not eight digits")
        return date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]))
    except ValueError as exc:
        raise Gv100adFormatError(
            f"{SOURCE}: line {line_number}: Gebietsstand {stamp!r} is no date YYYYMMDD ({exc})"
        ) from None


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
                f"{RECORD_LENGTH} (positions count characters after decoding; a mismatch "
                "means a wrong encoding or a shifted/corrupt file)"
            )
        satzart = line[0:2]
        if satzart not in SATZART:
            raise Gv100adFormatError(f"{SOURCE}: line {number}: unknown Satzart {satzart!r}")
        stand = _gebietsstand_of(line, number)
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
        for key, length in ((ars, 12), (ags, 5 if satzart == "40" else 8)):
            if key is not None and not (len(key) == length and key.isascii() and key.isdigit()):
                raise Gv100adFormatError(
                    f"{SOURCE}: line {number}: key positions 11–22 {line[10:22]!r} give no "
                    f"{length}-digit {'ARS' if length == 12 else 'AGS'} for Satzart {satzart}"
                )
        is_gemeinde = satzart == "60"
        textkennzeichen = _field(line, 123, 124) or None
        rows.append(
            {
                "satzart": satzart,
                "ebene": SATZART[satzart],
                "gebietsstand": stand,
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


@dataclass(frozen=True)
class Member:
    """The GV100AD data member of a zip, decoded."""

    name: str
    text: str
    encoding: str  # "utf-8" or "cp1252" (Windows-1252)


def _is_hinweise(name: str) -> bool:
    return PurePosixPath(name).name.lower().startswith("hinweise")


def extract_member(zip_bytes: bytes, *, url: str = "", drift: DriftLog | None = None) -> Member:
    """The GV100AD data member (``.txt``, else ``.ASC``/``.asc``), decoded as UTF-8 or, failing
    that, Windows-1252. Further members other than the Hinweise are noted in ``drift``."""
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            names = archive.namelist()
            members = sorted(
                (n for n in names if MEMBER_PATTERN.fullmatch(PurePosixPath(n).name)),
                key=lambda n: (not n.lower().endswith(".txt"), n),
            )
            if not members:
                raise Gv100adFormatError(
                    f"{SOURCE}: zip holds no GV100AD_*.txt member: {names} (nor a .ASC/.asc one)"
                )
            data = archive.read(members[0])
    except Gv100adFormatError:
        raise
    except ZIP_ERRORS as exc:  # a truncated or corrupt download
        raise Gv100adFormatError(
            f"{SOURCE}: not a readable zip ({type(exc).__name__}: {exc})"
            + (f" ({url})" if url else "")
        ) from exc
    if drift is not None:
        for name in names:
            if name != members[0] and not _is_hinweise(name) and not name.endswith("/"):
                drift.note(f"zip/{name}", "zip archive", url)
    for encoding in ENCODINGS:
        try:
            return Member(members[0], data.decode(encoding).removeprefix("\ufeff"), encoding)
        except UnicodeDecodeError:
            continue
    raise Gv100adFormatError(
        f"{SOURCE}: {members[0]} is neither UTF-8 nor Windows-1252 (editions from about 2019 "
        "are UTF-8, older ones Windows-1252/ISO-8859-1)"
    )


def extract_txt(zip_bytes: bytes) -> tuple[str, str]:
    """The GV100AD data member of a Destatis zip as (member name, decoded text)."""
    member = extract_member(zip_bytes)
    return member.name, member.text


def parse_zip(zip_bytes: bytes, *, url: str = "", drift: DriftLog | None = None) -> pl.DataFrame:
    return parse_gv100ad(extract_member(zip_bytes, url=url, drift=drift).text)


def annual_edition(snapshot: date) -> date:
    """Today's rule: the annual edition 31.12. of the year before the snapshot."""
    return date(snapshot.year - 1, 12, 31)


def edition_paths(edition: date) -> list[str]:
    """The known URL paths of one edition, in the order they are tried."""
    if (edition.month, edition.day) == (12, 31):
        return [path.format(year=edition.year) for path in ANNUAL_PATHS]
    stamp, ddmm = edition.strftime("%d%m%Y"), edition.strftime("%d%m")
    return [path.format(stamp=stamp, ddmm=ddmm) for path in QUARTERLY_PATHS]


def _base(url: str) -> str:
    return url.split("?", 1)[0]


def _gebietsstand(text: str) -> date | None:
    line = next((line for line in text.splitlines() if line.strip()), "")
    stamp = line[2:10]
    try:
        return date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]))
    except ValueError:  # not digits, or no valid date: a corrupt file, refused by the parser
        return None


def _moves_on(exc: SourceError) -> str | None:
    """The outcome to record when ``exc`` means "not at this URL", else None."""
    status = re.match(r"HTTP (\d{3})", exc.reason)
    if status and int(status.group(1)) in MOVE_ON_STATUSES:
        return f"HTTP {status.group(1)}"
    if "got an HTML page" in exc.reason:
        return "HTML page instead of the zip"
    return None


class DestatisClient:
    def __init__(self, base_url: str, http: HttpClient, edition: date | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.fixed_edition = edition
        self.tried: list[tuple[str, str]] = []  # (url, outcome) of the last fetch_edition

    @classmethod
    def create(
        cls, base_url: str, settings: HttpSettings, session=None, edition: date | None = None
    ) -> DestatisClient:
        return cls(base_url, HttpClient(SOURCE, settings, session), edition)

    def edition(self, snapshot: date) -> date:
        """The Gebietsstand to fetch: ``OZG_GV100AD_EDITION``, else the annual rule."""
        return self.fixed_edition or annual_edition(snapshot)

    def edition_urls(self, snapshot: date) -> list[str]:
        return [self.base_url + path for path in edition_paths(self.edition(snapshot))]

    def edition_url(self, snapshot: date) -> str:
        """The one URL the evidence expects for this edition (for single probes): the
        underscore form from 2025, the 2018–2024 form before."""
        urls = self.edition_urls(snapshot)
        edition = self.edition(snapshot)
        annual = (edition.month, edition.day) == (12, 31)
        return urls[1] if annual and edition.year < 2025 else urls[0]

    def fetch_edition(
        self,
        snapshot: date,
        validators: Mapping[str, Mapping[str, str]] | None = None,
    ) -> Fetched:
        """Try the edition's URL forms in order; the first zip that answers wins.

        ``validators`` maps a URL (without query) to the ETag / Last-Modified of an earlier
        response from it; they are sent to that URL only, and a 304 comes back as
        ``Fetched(not_modified=True)``. ``self.tried`` lists every URL with its outcome.
        """
        edition = self.edition(snapshot)
        yearless = self.base_url + YEARLESS_PATH.format(ddmm=edition.strftime("%d%m"))
        self.tried = []
        for url in self.edition_urls(snapshot):
            try:
                fetched = self.http.get(
                    url,
                    params={"__blob": "publicationFile"},
                    expect="zip",
                    validators=(validators or {}).get(url),
                )
            except SourceError as exc:
                outcome = _moves_on(exc)
                self.tried.append((exc.url, outcome or exc.reason))
                if outcome is None:
                    raise SourceError(
                        SOURCE, exc.url, f"{exc.reason}; {self.describe_tried()}"
                    ) from exc
                continue
            if fetched.not_modified:
                self.tried.append((fetched.url, "HTTP 304 (not modified)"))
                return fetched
            try:
                member = extract_member(fetched.body)
            except Gv100adFormatError as exc:
                self.tried.append((fetched.url, "HTTP 200, unusable zip"))
                raise SourceError(SOURCE, fetched.url, f"{exc}; {self.describe_tried()}") from exc
            stand = _gebietsstand(member.text)
            if url == yearless and stand != edition:
                # The year-less quarterly name holds whatever year is current.
                self.tried.append((fetched.url, f"another edition (Gebietsstand {stand})"))
                continue
            self.tried.append((fetched.url, f"HTTP 200, {member.name} ({member.encoding})"))
            return fetched
        raise SourceError(
            SOURCE,
            self.edition_urls(snapshot)[0],
            f"no GV100AD zip for the edition {edition:%d.%m.%Y} at any known URL; "
            + self.describe_tried(),
        )

    def describe_tried(self) -> str:
        return "tried: " + "; ".join(f"{url} -> {outcome}" for url, outcome in self.tried)


def entry_name(url: str) -> str:
    """The landing entry name of an edition URL: its file name (``GV100AD_31122025.zip``)."""
    return PurePosixPath(urlsplit(url).path).name
