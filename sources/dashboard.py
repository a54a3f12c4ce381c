"""Dashboard Digitale Verwaltung open-data API: client and parsers (contract:
``docs/contracts/dashboard.md``).

Two hosts expose the same data:

* host B, "OZG Data Hub", base URL ending in ``/public/v1/dash``: ``{base}/open-pvog/{ars}/export``
  (a CSV file; the one endpoint reported verified live, it needs
  ``Accept: application/octet-stream``), ``{base}/open-pvog/{ars}`` (paged JSON, unverified) and
  ``{base}/open-ars``;
* host A, bund.dev spec: ``{base}/v1/data/{ars}`` (with ``filetype=csv`` a file *or* a JSON
  page, untyped in the spec) and ``{base}/v1/ars``.

The host is chosen by the configured base URL, the endpoint by ``OZG_DASHBOARD_ENDPOINT``
(``export`` or ``paged``). JSON answers are Spring ``Page`` documents in the classic
envelope (``totalPages``, ``last``, …) or the Spring 3.3 one (``{"content": …, "page": {…}}``).
A CSV answer is read with encoding, BOM and delimiter detected from the body. All query
parameters are strings, booleans as ``"true"`` / ``"false"``.

Contract for every record, JSON or CSV: the spec's non-nullable fields are required
(missing → :class:`DashboardFormatError` naming source, field, record and URL); the other
declared fields are optional (null when absent); ``ozgid`` is an integer (a JSON number or a
digit string); anything undeclared is noted in a :class:`~sources.contract.DriftLog` and
otherwise ignored.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Literal

import polars as pl
import requests

from sources.config import HttpSettings
from sources.contract import DriftLog
from sources.http import Expect, Fetched, HttpClient, SourceError
from sources.identifiers import validate_ars
from sources.paging import PageInfo

SOURCE = "dashboard"
HOST_B_SUFFIX = "/public/v1/dash"

# All DvDataDto fields (spec) plus host B's additions, in the column order of the public
# wire format; the frame schema follows this order.
FIELDS = (
    "leika_key",
    "leika_name",
    "ars",
    "ars_name",
    "ars_federal_state",
    "bundesland",
    "leika_bezeichnung",
    "ozgid",
    "ozg_bezeichnung",
    "url",
    "online_status",
    "aktiv",
    "art_flaechendeckung",
    "begruendung_nicht_beruecksichtigt",
    "export_datum",
    "datenstand_pvog_import",
)
# The spec's non-nullable DvDataDto fields: a record without one of them loses its meaning.
REQUIRED_FIELDS = ("leika_key", "leika_name", "ars", "url", "online_status", "art_flaechendeckung")
# Nullable in the spec, or host B only (``export_datum`` is deprecated there): null when absent.
OPTIONAL_FIELDS = tuple(f for f in FIELDS if f not in REQUIRED_FIELDS)
DECLARED = frozenset(FIELDS)
ARS_FIELDS = frozenset({"ars", "arsName", "ars_name"})

SCHEMA = pl.Schema({name: (pl.Int32 if name == "ozgid" else pl.String) for name in FIELDS})
ARS_SCHEMA = pl.Schema({"ars": pl.String, "ars_name": pl.String})

# Accept headers. Host B's export answers 406 to ``text/csv`` and serves the file only
# for ``application/octet-stream``; host A's spec declares JSON or octet-stream.
EXPORT_ACCEPT_HOST_B = "application/octet-stream"
EXPORT_ACCEPT_HOST_A = "application/octet-stream, application/json"
JSON_ACCEPT = "application/json"

CSV_DELIMITERS = (";", ",", "\t", "|")
UTF8_BOM = b"\xef\xbb\xbf"
_JSON_TYPES = frozenset({"application/json", "text/json"})
_INT32 = (-(2**31), 2**31 - 1)

Format = Literal["csv", "json"]


class DashboardFormatError(ValueError):
    """A body does not match the documented wire format."""


class ExportNotAcceptable(SourceError):
    """HTTP 406: the server refused the Accept header the client sent (not retried)."""


class ExportTooLarge(SourceError):
    """HTTP 413 on an export: the caller pages through the JSON endpoint instead."""


@dataclass(frozen=True)
class DashboardPage:
    info: PageInfo
    records: list[dict[str, object]]


@dataclass(frozen=True)
class DataAnswer:
    """One parsed data body: the records as a ``SCHEMA`` frame, its wire format and, for a
    JSON page, its paging envelope."""

    frame: pl.DataFrame
    format: Format
    info: PageInfo | None


def _fail(url: str, reason: str) -> DashboardFormatError:
    # A value quoted from the body may hold a lone surrogate (legal in JSON, no text): escape
    # it, so the message can be printed and logged.
    message = f"{SOURCE}: {reason} ({url})".encode("utf-8", "backslashreplace").decode("utf-8")
    return DashboardFormatError(message)


def _is_text(value: str) -> bool:
    """Whether a string is valid Unicode text (JSON's ``\\ud800`` escapes decode to a lone
    surrogate, which no UTF-8 column can hold)."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# -- format sniffing ----------------------------------------------------------------------
def _is_html(body: bytes) -> bool:
    head = body[:512].removeprefix(UTF8_BOM).lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def sniff(body: bytes, url: str, content_type: str | None = None) -> Format:
    """``json`` or ``csv``, by the declared Content-Type and the body; HTML is refused."""
    if _is_html(body):
        raise _fail(
            url,
            "got an HTML page instead of data (status 200; has the host become a UI?): "
            + " ".join(body[:120].decode("utf-8", errors="replace").split()),
        )
    declared = (content_type or "").split(";")[0].strip().lower()
    stripped = body[:64].removeprefix(UTF8_BOM).lstrip()
    if declared in _JSON_TYPES or stripped.startswith((b"{", b"[")):
        return "json"
    return "csv"


def parse_data_body(
    body: bytes, url: str, content_type: str | None = None, *, drift: DriftLog | None = None
) -> DataAnswer:
    """A data answer of any endpoint: a JSON page or a CSV export, told apart by sniffing."""
    if sniff(body, url, content_type) == "json":
        frame, info = parse_data_page(body, url, drift=drift)
        return DataAnswer(frame, "json", info)
    return DataAnswer(parse_export_csv(body, url, drift=drift), "csv", None)


# -- JSON pages ---------------------------------------------------------------------------
def parse_envelope(body: bytes, url: str) -> DashboardPage:
    """Read a Spring page in either envelope; records are returned unvalidated."""
    if _is_html(body):
        raise _fail(url, "got an HTML page instead of a JSON page (status 200)")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # also: too deeply nested, too many digits
        raise _fail(url, f"invalid JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("content"), list):
        raise _fail(url, "not a Spring page: no 'content' array")
    content = document["content"]
    meta = document.get("page") if isinstance(document.get("page"), dict) else document
    try:
        info = PageInfo(
            number=int(meta.get("number", 0)),
            count=len(content),
            total_elements=_optional_int(meta.get("totalElements")),
            total_pages=_optional_int(meta.get("totalPages")),
            last=meta.get("last") if isinstance(meta.get("last"), bool) else None,
        )
    except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: 1e400, Infinity
        raise _fail(url, f"invalid paging fields: {exc}") from exc
    if info.total_pages is None and info.last is None:
        raise _fail(url, "page has neither 'last' nor 'totalPages'; cannot page safely")
    return DashboardPage(info, content)


def page_info(body: bytes, url: str) -> PageInfo:
    return parse_envelope(body, url).info


def _optional_int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def _ozgid(value: object, where: str, url: str) -> int | None:
    """``ozgid`` is int32 in the spec: a JSON number, or a digit string (CSV, quoted JSON)."""
    if value is None:
        return None
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if digits.isascii() and digits.isdigit():
            try:
                number = int(text)
            except ValueError:  # more digits than int() converts
                number = None
    if number is None or not _INT32[0] <= number <= _INT32[1]:
        raise _fail(url, f"{where}: column 'ozgid' is not an integer: {value!r}")
    return number


def _where(index: int, key: object) -> str:
    where = f"record {index}"
    return where + f" (leika_key {key})" if isinstance(key, str) else where


def validate_records(
    records: list[object], url: str, *, drift: DriftLog | None = None
) -> list[dict[str, object]]:
    """Check every record against the contract; errors name record and column."""
    checked: list[dict[str, object]] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise _fail(url, f"record {index}: expected an object, got {type(record).__name__}")
        where = _where(index, record.get("leika_key"))
        missing = [f for f in REQUIRED_FIELDS if f not in record]
        if missing:
            raise _fail(url, f"{where}: missing column {missing[0]!r} (required)")
        if drift is not None:
            drift.note_unknown(record, DECLARED, where, url)
        row: dict[str, object] = {}
        for name in FIELDS:
            value = record.get(name)
            if name == "ozgid":
                value = _ozgid(value, where, url)
            elif value is not None and not isinstance(value, str):
                raise _fail(url, f"{where}: column {name!r} is not a string: {value!r}")
            elif value is not None and not _is_text(value):
                raise _fail(url, f"{where}: column {name!r} is not valid Unicode: {value!r}")
            row[name] = value
        checked.append(row)
    return checked


def parse_data_page(
    body: bytes, url: str, *, drift: DriftLog | None = None
) -> tuple[pl.DataFrame, PageInfo]:
    page = parse_envelope(body, url)
    rows = validate_records(page.records, url, drift=drift)
    return pl.DataFrame(rows, schema=SCHEMA, orient="row") if rows else SCHEMA.to_frame(), page.info


def parse_ars_page(
    body: bytes, url: str, *, drift: DriftLog | None = None
) -> tuple[pl.DataFrame, PageInfo]:
    """``ArsDto`` pages; one public wrapper spells the name ``ars_name``: accept both."""
    page = parse_envelope(body, url)
    rows = []
    for index, record in enumerate(page.records):
        if not isinstance(record, dict) or not isinstance(record.get("ars"), str):
            raise _fail(url, f"record {index}: ArsDto without a string 'ars' (required)")
        if not _is_text(record["ars"]):
            raise _fail(url, f"record {index}: 'ars' is not valid Unicode: {record['ars']!r}")
        if drift is not None:
            drift.note_unknown(record, ARS_FIELDS, f"ARS record {index} ({record['ars']})", url)
        name = record.get("arsName", record.get("ars_name"))
        if name is not None and not (isinstance(name, str) and _is_text(name)):
            raise _fail(url, f"record {index}: 'arsName' is not a string: {name!r}")
        rows.append({"ars": record["ars"], "ars_name": name})
    return pl.DataFrame(rows, schema=ARS_SCHEMA), page.info


# -- CSV export ---------------------------------------------------------------------------
def decode_text(body: bytes, url: str) -> tuple[str, str]:
    """The body as text and the encoding found: a UTF-8 BOM is stripped; UTF-8, else
    Windows-1252 (the usual encoding of German spreadsheet exports)."""
    if body.startswith(b"PK\x03\x04"):
        raise _fail(url, "got a zip archive (an xlsx file?) instead of a CSV export")
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _fail(
            url, "body starts with a UTF-16 byte order mark; expected UTF-8 or Windows-1252"
        )
    nul = body.find(b"\x00")
    if nul >= 0:
        raise _fail(url, f"body holds a NUL byte at {nul}: binary, not a CSV text")
    if body.startswith(UTF8_BOM):
        try:
            return body[len(UTF8_BOM) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise _fail(
                url, f"body has a UTF-8 BOM but is not UTF-8 at byte {exc.start + 3}"
            ) from exc
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8:
        try:
            return body.decode("cp1252"), "windows-1252"
        except UnicodeDecodeError as cp1252:
            raise _fail(
                url,
                f"body is neither UTF-8 (invalid at byte {utf8.start}) nor Windows-1252 "
                f"(undefined byte at {cp1252.start})",
            ) from cp1252


def detect_delimiter(header_line: str) -> str:
    """The candidate delimiter that splits the header line into the most declared column
    names (then the most columns); ``;`` when nothing is recognisable."""

    def score(delimiter: str) -> tuple[int, int]:
        try:
            names = next(csv.reader([header_line], delimiter=delimiter), [])
        except csv.Error:  # e.g. a lone \r: the strict reader names it, with the line
            return 0, 0
        return sum(1 for n in names if n.strip() in DECLARED), len(names)

    return max(CSV_DELIMITERS, key=score)  # max keeps the first of equal scores


def _shown(delimiter: str) -> str:
    return "\\t" if delimiter == "\t" else delimiter


def parse_export_csv(body: bytes, url: str, *, drift: DriftLog | None = None) -> pl.DataFrame:
    """One CSV export as a ``SCHEMA`` frame, rows in file order.

    Standard CSV quoting (quoted fields with embedded delimiters, line breaks or doubled
    quotes; CRLF or LF); every cell is read as a string and an empty cell is null.
    """
    if _is_html(body):
        raise _fail(url, "got an HTML page instead of a CSV export (status 200)")
    text, _ = decode_text(body, url)
    end = text.find("\n")
    first_line = (text if end < 0 else text[:end]).rstrip("\r")
    if not first_line.strip():
        raise _fail(url, "CSV export has no header line")
    delimiter = detect_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip() for name in next(reader)]
        positions: dict[str, int] = {}
        for position, name in enumerate(header):
            if name in positions and name:
                raise _fail(url, f"header: column {name!r} appears twice")
            positions.setdefault(name, position)
        missing = [f for f in REQUIRED_FIELDS if f not in positions]
        if missing:
            shown = ", ".join(header[:8]) + (", …" if len(header) > 8 else "")
            raise _fail(
                url,
                f"header: missing column {missing[0]!r} (required; header read as "
                f"{_shown(delimiter)!r}-delimited: {shown})",
            )
        rows: list[list[str]] = []
        for row in reader:
            if not row:
                continue  # a blank line
            if len(row) != len(header):
                index = len(rows)
                key = row[positions["leika_key"]] if len(row) > positions["leika_key"] else None
                raise _fail(
                    url,
                    f"{_where(index, key)} (line {reader.line_num}): {len(row)} fields, "
                    f"the header has {len(header)}",
                )
            rows.append(row)
    except csv.Error as exc:
        raise _fail(url, f"invalid CSV at line {reader.line_num}: {exc}") from exc
    if drift is not None:
        for position, name in enumerate(header):
            if name not in DECLARED:
                label = name or f"(unnamed column {position + 1})"
                drift.note(label, f"header column {position + 1}", url, count=len(rows))
    columns: dict[str, list[object]] = {}
    for name in FIELDS:
        position = positions.get(name)
        if position is None:
            columns[name] = [None] * len(rows)
        else:
            columns[name] = [row[position] or None for row in rows]
    key_position = positions["leika_key"]
    columns["ozgid"] = [
        _ozgid(value, _where(index, rows[index][key_position] or None), url)
        for index, value in enumerate(columns["ozgid"])
    ]
    return pl.DataFrame(columns, schema=SCHEMA)


# -- client -------------------------------------------------------------------------------
class _DashboardHttp(HttpClient):
    """The export endpoints answer a file or (host A spec) a JSON page: a response to a
    request expecting CSV is validated as JSON when the server declares JSON."""

    def _validate(self, url: str, response: requests.Response, body: bytes, expect: Expect) -> None:
        declared = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if expect == "csv" and declared in _JSON_TYPES:
            expect = "json"
        super()._validate(url, response, body, expect)


class DashboardClient:
    def __init__(self, base_url: str, http: HttpClient) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.host_b = self.base_url.endswith(HOST_B_SUFFIX)

    @classmethod
    def create(
        cls, base_url: str, settings: HttpSettings, session: requests.Session | None = None
    ) -> DashboardClient:
        return cls(base_url, _DashboardHttp(SOURCE, settings, session))

    @staticmethod
    def _check(ars: str) -> str:
        return validate_ars(ars)  # it becomes part of the URL path

    def ars_url(self) -> str:
        return f"{self.base_url}/open-ars" if self.host_b else f"{self.base_url}/v1/ars"

    def data_url(self, ars: str) -> str:
        """The paged JSON endpoint."""
        ars = self._check(ars)
        return (
            f"{self.base_url}/open-pvog/{ars}" if self.host_b else f"{self.base_url}/v1/data/{ars}"
        )

    def export_url(self, ars: str) -> str:
        """The file endpoint: host B's ``…/export``, host A's data path with ``filetype``."""
        ars = self._check(ars)
        return (
            f"{self.base_url}/open-pvog/{ars}/export"
            if self.host_b
            else f"{self.base_url}/v1/data/{ars}"
        )

    @property
    def export_accept(self) -> str:
        return EXPORT_ACCEPT_HOST_B if self.host_b else EXPORT_ACCEPT_HOST_A

    def fetch_ars_page(self, page: int, size: int) -> Fetched:
        return self.http.get(
            self.ars_url(),
            params={"page": str(page), "size": str(size), "order": "asc"},
            headers={"Accept": JSON_ACCEPT},
        )

    def fetch_data_page(
        self, ars: str, page: int, size: int, *, include_above: bool, include_below: bool
    ) -> Fetched:
        return self.http.get(
            self.data_url(ars),
            params={
                "page": str(page),
                "size": str(size),
                **_flags(include_above, include_below),
            },
            headers={"Accept": JSON_ACCEPT},
        )

    def fetch_export(self, ars: str, *, include_above: bool, include_below: bool) -> Fetched:
        """One export of an ARS: a CSV file, or on host A possibly a JSON page.

        A 406 raises :class:`ExportNotAcceptable` naming the Accept header sent; a 413
        raises :class:`ExportTooLarge` (the caller pages instead). Neither is retried.
        """
        accept = self.export_accept
        try:
            return self.http.get(
                self.export_url(ars),
                params={"filetype": "csv", **_flags(include_above, include_below)},
                headers={"Accept": accept},
                expect="csv",
            )
        except SourceError as exc:
            if exc.reason.startswith("HTTP 406"):
                raise ExportNotAcceptable(
                    SOURCE,
                    exc.url,
                    f"HTTP 406 Not Acceptable: the server refused the header "
                    f"'Accept: {accept}' sent with the export request "
                    f"(host B serves the export only for 'Accept: application/octet-stream'); "
                    f"not retried. Server said: {exc.reason.split(':', 1)[-1].strip()}",
                ) from exc
            if exc.reason.startswith("HTTP 413"):
                raise ExportTooLarge(SOURCE, exc.url, exc.reason) from exc
            raise


def _flags(include_above: bool, include_below: bool) -> dict[str, str]:
    return {
        "includeAbove": "true" if include_above else "false",
        "includeBelow": "true" if include_below else "false",
    }
