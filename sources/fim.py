"""FIM Portal API: Leistungssteckbriefe (LeiKa key -> OZG-ID, Themenfeld, Typisierung).

``GET {base}/api/v0/leistung-steckbriefe?offset=&limit=`` (limit 1–200). The spec
leaves this response untyped; we expect the documented ``PaginatedResult`` envelope
(``items``, ``offset``, ``limit``, ``count``, ``total_count``) with items shaped like
``LeistungStammtextOut`` (the typed sibling endpoint) — an assumption to confirm on
the first live call (``../shared/docs/sources.md`` §3, §10). Unknown or missing
fields fail loudly instead of being guessed.
"""

from __future__ import annotations

import json

import polars as pl
import requests

from sources.config import HttpSettings
from sources.http import Fetched, HttpClient
from sources.paging import PageInfo

SOURCE = "fim"
PATH = "/api/v0/leistung-steckbriefe"
MAX_LIMIT = 200

ITEM_FIELDS = (
    "redaktion_id",
    "leistung_id",
    "source",
    "title",
    "leistungsschluessel",
    "leistungstyp",
    "leistungsadressat",
    "typisierung",
    "freigabe_status",
    "leistungsbezeichnung",
    "leistungsbezeichnung_2",
    "kurztext",
    "volltext",
    "rechtsgrundlagen",
    "erstellt_datum_zeit",
    "geaendert_datum_zeit",
    "klassifizierung",
    "ozg",
    "fts_match",
)
REQUIRED_ITEM_FIELDS = ("leistungsschluessel", "title", "typisierung", "ozg")
OZG_FIELDS = (
    "leistungsschluessel",
    "id",
    "leistung",
    "themenfeld",
    "themenfeld_label",
    "vollzugsbehoerden",
)

SCHEMA = pl.Schema(
    {
        "leika_key": pl.String,
        "title": pl.String,
        "leistungsbezeichnung": pl.String,
        "leistungsbezeichnung_2": pl.String,
        "typisierung": pl.List(pl.String),
        "leistungsadressat": pl.List(pl.String),
        "leistungstyp": pl.String,
        "freigabe_status": pl.Int32,
        "ozg_id": pl.String,
        "ozg_leistung": pl.String,
        "themenfeld": pl.String,
        "themenfeld_label": pl.String,
        "redaktion_id": pl.String,
        "leistung_id": pl.String,
        "geaendert_datum_zeit": pl.String,
    }
)


class FimFormatError(ValueError):
    pass


def _fail(url: str, reason: str) -> FimFormatError:
    return FimFormatError(f"{SOURCE}: {reason} ({url})")


def _envelope(body: bytes, url: str) -> dict[str, object]:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(url, f"invalid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise _fail(url, "expected a PaginatedResult object")
    for key in ("items", "offset", "limit", "count", "total_count"):
        if key not in document:
            raise _fail(url, f"PaginatedResult without {key!r}")
    if not isinstance(document["items"], list):
        raise _fail(url, "'items' is not an array")
    return document


def page_info(body: bytes, url: str) -> PageInfo:
    document = _envelope(body, url)
    offset, limit, total = (
        int(document["offset"]),
        int(document["limit"]),
        int(document["total_count"]),
    )  # type: ignore[call-overload]
    count = len(document["items"])  # type: ignore[arg-type]
    return PageInfo(
        number=offset // max(limit, 1),
        count=count,
        total_elements=total,
        total_pages=-(-total // max(limit, 1)),
        last=offset + count >= total,
    )


def parse_page(body: bytes, url: str) -> pl.DataFrame:
    """One row per LeiKa key of each item (an item may carry several keys)."""
    document = _envelope(body, url)
    rows: list[dict[str, object]] = []
    for index, item in enumerate(document["items"]):  # type: ignore[arg-type]
        if not isinstance(item, dict):
            raise _fail(url, f"item {index}: expected an object")
        where = f"item {index}"
        keys = item.get("leistungsschluessel")
        if isinstance(keys, list) and keys:
            where += f" (leistungsschluessel {keys[0]})"
        missing = [f for f in REQUIRED_ITEM_FIELDS if f not in item]
        if missing:
            raise _fail(url, f"{where}: missing field {missing[0]!r}")
        extra = [f for f in item if f not in ITEM_FIELDS]
        if extra:
            raise _fail(url, f"{where}: unexpected field {extra[0]!r} (schema drift?)")
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise _fail(url, f"{where}: 'leistungsschluessel' is not a list of strings")
        ozg = item.get("ozg") or []
        if not isinstance(ozg, list):
            raise _fail(url, f"{where}: 'ozg' is not a list")
        for entry in ozg:
            unknown = [f for f in entry if f not in OZG_FIELDS]
            if unknown:
                raise _fail(url, f"{where}: unexpected OzgOut field {unknown[0]!r}")
        for key in keys:
            # The OZG mapping is per LeiKa key; fall back to the item's first mapping.
            match = next((o for o in ozg if o.get("leistungsschluessel") == key), None)
            match = match or (ozg[0] if ozg else {})
            ozg_id = match.get("id")
            rows.append(
                {
                    "leika_key": key,
                    "title": item.get("title"),
                    "leistungsbezeichnung": item.get("leistungsbezeichnung"),
                    "leistungsbezeichnung_2": item.get("leistungsbezeichnung_2"),
                    "typisierung": list(item.get("typisierung") or []),
                    "leistungsadressat": list(item.get("leistungsadressat") or []),
                    "leistungstyp": item.get("leistungstyp"),
                    "freigabe_status": item.get("freigabe_status"),
                    "ozg_id": None if ozg_id is None else str(ozg_id),
                    "ozg_leistung": match.get("leistung"),
                    "themenfeld": match.get("themenfeld"),
                    "themenfeld_label": match.get("themenfeld_label"),
                    "redaktion_id": item.get("redaktion_id"),
                    "leistung_id": item.get("leistung_id"),
                    "geaendert_datum_zeit": item.get("geaendert_datum_zeit"),
                }
            )
    try:
        return pl.DataFrame(rows, schema=SCHEMA)
    except (TypeError, ValueError, pl.exceptions.PolarsError) as exc:
        raise _fail(url, f"field has an unexpected type: {exc}") from exc


class FimClient:
    def __init__(self, base_url: str, http: HttpClient) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http

    @classmethod
    def create(
        cls, base_url: str, settings: HttpSettings, session: requests.Session | None = None
    ) -> FimClient:
        return cls(base_url, HttpClient(SOURCE, settings, session))

    def url(self) -> str:
        return self.base_url + PATH

    def fetch_page(self, offset: int, limit: int) -> Fetched:
        return self.http.get(
            self.url(),
            params={
                "offset": str(offset),
                "limit": str(min(limit, MAX_LIMIT)),
                "order_by": "leistungsschluessel_asc",  # stable order while paging
            },
            headers={"Accept": "application/json"},
        )
