"""Dashboard Digitale Verwaltung open-data API: client and page parser.

Two hosts expose the same data (``../shared/docs/sources.md`` §1):

* host A, bund.dev spec: ``{base}/v1/ars`` and ``{base}/v1/data/{ars}``;
* host B, "OZG Data Hub": ``{base}/open-ars`` and ``{base}/open-pvog/{ars}`` where the
  base URL ends in ``/public/v1/dash``.

The host is chosen by the configured base URL. Both answer Spring ``Page`` JSON, in
the classic envelope (``totalPages``, ``last``, …) or the Spring 3.3 one
(``{"content": …, "page": {…}}``); the parser accepts both. All query parameters are
strings, booleans as ``"true"`` / ``"false"``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import polars as pl
import requests

from sources.config import HttpSettings
from sources.http import Fetched, HttpClient
from sources.paging import PageInfo

SOURCE = "dashboard"

# DvDataDto (spec) in the column order of the public wire format.
REQUIRED_FIELDS = (
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
)
# Additional fields of host B's OpenPvogDto (client code); absent on host A.
OPTIONAL_FIELDS = ("begruendung_nicht_beruecksichtigt", "export_datum", "datenstand_pvog_import")
FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS

SCHEMA = pl.Schema({name: (pl.Int32 if name == "ozgid" else pl.String) for name in FIELDS})
ARS_SCHEMA = pl.Schema({"ars": pl.String, "ars_name": pl.String})


class DashboardFormatError(ValueError):
    """A page does not match the documented wire format."""


@dataclass(frozen=True)
class DashboardPage:
    info: PageInfo
    records: list[dict[str, object]]


def _fail(url: str, reason: str) -> DashboardFormatError:
    return DashboardFormatError(f"{SOURCE}: {reason} ({url})")


def parse_envelope(body: bytes, url: str) -> DashboardPage:
    """Read a Spring page in either envelope; records are returned unvalidated."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
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
    except (TypeError, ValueError) as exc:
        raise _fail(url, f"invalid paging fields: {exc}") from exc
    if info.total_pages is None and info.last is None:
        raise _fail(url, "page has neither 'last' nor 'totalPages'; cannot page safely")
    return DashboardPage(info, content)


def page_info(body: bytes, url: str) -> PageInfo:
    return parse_envelope(body, url).info


def _optional_int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def validate_records(records: list[object], url: str) -> list[dict[str, object]]:
    """Check every record against the declared fields; errors name record and column."""
    checked: list[dict[str, object]] = []
    for index, record in enumerate(records):
        where = f"record {index}"
        if not isinstance(record, dict):
            raise _fail(url, f"{where}: expected an object, got {type(record).__name__}")
        if isinstance(record.get("leika_key"), str):
            where += f" (leika_key {record['leika_key']})"
        missing = [f for f in REQUIRED_FIELDS if f not in record]
        if missing:
            raise _fail(url, f"{where}: missing column {missing[0]!r}")
        extra = [f for f in record if f not in FIELDS]
        if extra:
            raise _fail(url, f"{where}: unexpected column {extra[0]!r} (schema drift?)")
        row: dict[str, object] = {}
        for name in FIELDS:
            value = record.get(name)
            if name == "ozgid":
                if isinstance(value, str) and value.strip().isdigit():
                    value = int(value)  # the spec says int32; tolerate a quoted number
                if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                    raise _fail(url, f"{where}: column 'ozgid' is not an integer: {value!r}")
            elif value is not None and not isinstance(value, str):
                raise _fail(url, f"{where}: column {name!r} is not a string: {value!r}")
            row[name] = value
        checked.append(row)
    return checked


def parse_data_page(body: bytes, url: str) -> tuple[pl.DataFrame, PageInfo]:
    page = parse_envelope(body, url)
    rows = validate_records(page.records, url)
    return pl.DataFrame(rows, schema=SCHEMA, orient="row") if rows else SCHEMA.to_frame(), page.info


def parse_ars_page(body: bytes, url: str) -> tuple[pl.DataFrame, PageInfo]:
    """``ArsDto`` pages; one public wrapper spells the name ``ars_name``: accept both."""
    page = parse_envelope(body, url)
    rows = []
    for index, record in enumerate(page.records):
        if not isinstance(record, dict) or not isinstance(record.get("ars"), str):
            raise _fail(url, f"record {index}: ArsDto without a string 'ars'")
        extra = [k for k in record if k not in ("ars", "arsName", "ars_name")]
        if extra:
            raise _fail(url, f"record {index}: unexpected column {extra[0]!r}")
        rows.append(
            {"ars": record["ars"], "ars_name": record.get("arsName", record.get("ars_name"))}
        )
    return pl.DataFrame(rows, schema=ARS_SCHEMA), page.info


class DashboardClient:
    def __init__(self, base_url: str, http: HttpClient) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.host_b = self.base_url.endswith("/public/v1/dash")

    @classmethod
    def create(
        cls, base_url: str, settings: HttpSettings, session: requests.Session | None = None
    ) -> DashboardClient:
        return cls(base_url, HttpClient(SOURCE, settings, session))

    def ars_url(self) -> str:
        return f"{self.base_url}/open-ars" if self.host_b else f"{self.base_url}/v1/ars"

    def data_url(self, ars: str) -> str:
        if len(ars) != 12 or not ars.isdigit():
            raise ValueError(f"ARS must have 12 digits: {ars!r}")
        return (
            f"{self.base_url}/open-pvog/{ars}" if self.host_b else f"{self.base_url}/v1/data/{ars}"
        )

    def fetch_ars_page(self, page: int, size: int) -> Fetched:
        return self.http.get(
            self.ars_url(),
            params={"page": str(page), "size": str(size), "order": "asc"},
            headers={"Accept": "application/json"},
        )

    def fetch_data_page(
        self, ars: str, page: int, size: int, *, include_above: bool, include_below: bool
    ) -> Fetched:
        return self.http.get(
            self.data_url(ars),
            params={
                "page": str(page),
                "size": str(size),
                "includeAbove": "true" if include_above else "false",
                "includeBelow": "true" if include_below else "false",
            },
            headers={"Accept": "application/json"},
        )
