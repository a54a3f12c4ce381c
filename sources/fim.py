"""FIM Portal API: Leistungssteckbriefe (LeiKa key -> OZG-ID, Themenfeld, Typisierung).

``GET {base}{path}?offset=&limit=`` with ``path`` = ``OZG_FIM_PATH`` (default
``/api/v0/leistung-steckbriefe``, still served; ``/api/v1/leistung-steckbriefe`` answers
too); ``limit`` 1–200. The contract follows what public clients observed on the live API
(``docs/contracts/fim.md``, evidence tagged LIVE / CODE / SPEC):

* envelope: ``items`` (array) and ``total_count`` are required; ``offset``, ``limit`` and
  ``count`` appear only in the spec of other endpoints and are optional. Paging therefore
  uses the offset/limit of the *request* (read back from the page's URL) and stops once
  ``offset + len(items) >= total_count`` — or on an empty page, so a server that
  announces more than it delivers cannot make us loop;
* item: ``leistungsschluessel`` is required (a string, or a list of strings as in the
  spec's ``LeistungStammtextOut``); ``ozg`` is a single object on the live API, a list of
  ``OzgOut`` in the spec, or null; ``typisierung`` / ``leistungsadressat`` are lists of
  strings, a string or null; ``leistung_stammtexte`` (``[redaktion_id, leistung_id]``
  pairs) supplies ``redaktion_id`` / ``leistung_id`` when those fields are absent;
* drift: a field outside the declared set (item fields, ``ozg.<name>`` sub-fields,
  ``envelope.<name>``) is not an error. It is noted in the caller's
  :class:`~sources.contract.DriftLog`; the raw landing keeps the body as received.

A FastAPI 422 (bad parameters) is reported with its ``detail``; the IP-based 429 is
retried by the HTTP layer (``Retry-After`` honoured).
"""

from __future__ import annotations

import json
import threading
from urllib.parse import parse_qsl, urlsplit

import polars as pl
import requests

from sources.config import HttpSettings
from sources.contract import DriftLog
from sources.http import Fetched, HttpClient, SourceError
from sources.paging import PageInfo

SOURCE = "fim"
PATH = "/api/v0/leistung-steckbriefe"  # default of OZG_FIM_PATH (LIVE, Oct 2026)
PATH_V1 = "/api/v1/leistung-steckbriefe"  # answers as well (LIVE-ish, Jul 2026)
MAX_LIMIT = 200

ENVELOPE_REQUIRED = ("items", "total_count")
ENVELOPE_OPTIONAL = ("offset", "limit", "count")  # SPEC only (other endpoints)

# Item fields seen on the live Steckbrief list and detail endpoints (LIVE) …
STECKBRIEF_FIELDS = (
    "leistungsschluessel",
    "title",
    "leistungsbezeichnung",
    "leistungsbezeichnung_2",
    "freigabe_status",
    "geaendert_datum_zeit",
    "rechtsgrundlagen",
    "leistung_stammtexte",
    "ozg",
    "sdg_informationsbereiche",
    "klassifizierung",
    "prozessklasse",
    "replacements",
)
# … and of the spec's typed sibling ``LeistungStammtextOut`` (SPEC), still accepted.
STAMMTEXT_FIELDS = (
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
ITEM_FIELDS = tuple(dict.fromkeys(STECKBRIEF_FIELDS + STAMMTEXT_FIELDS))
REQUIRED_ITEM_FIELDS = ("leistungsschluessel",)
# ``ozg`` object (LIVE: id, leistung, themenfeld, themenfeld_label, vollzugsbehoerden);
# the spec's ``OzgOut`` adds ``leistungsschluessel``.
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
    # A value quoted from the body may hold a lone surrogate (legal in JSON, no text): escape
    # it, so the message can be printed and logged.
    message = f"{SOURCE}: {reason} ({url})".encode("utf-8", "backslashreplace").decode("utf-8")
    return FimFormatError(message)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _envelope(body: bytes, url: str) -> dict[str, object]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # also: too deeply nested, too many digits
        raise _fail(url, f"invalid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise _fail(url, "response envelope: expected an object with 'items' and 'total_count'")
    for key in ENVELOPE_REQUIRED:
        if key not in document:
            raise _fail(url, f"response envelope: missing required field {key!r}")
    if not isinstance(document["items"], list):
        raise _fail(url, "response envelope: field 'items' is not an array")
    for key in ("total_count", *ENVELOPE_OPTIONAL):
        if key in document and not _is_int(document[key]):
            raise _fail(url, f"response envelope: field {key!r} is not an integer")
    return document


def requested_window(url: str) -> tuple[int | None, int | None]:
    """The ``offset`` and ``limit`` a page was requested with, read from its URL."""
    params = dict(parse_qsl(urlsplit(url).query))
    values = []
    for name in ("offset", "limit"):
        value = params.get(name, "")
        values.append(int(value) if value.isascii() and value.isdigit() else None)
    return values[0], values[1]


def page_info(body: bytes, url: str) -> PageInfo:
    """Paging state of one page: the request's offset/limit (from ``url``; the optional
    envelope fields as a fallback) against ``total_count``."""
    document = _envelope(body, url)
    count = len(document["items"])  # type: ignore[arg-type]
    total = int(document["total_count"])  # type: ignore[call-overload]
    offset, limit = requested_window(url)
    if offset is None:
        offset = int(document.get("offset", 0))  # type: ignore[call-overload]
    if limit is None:
        limit = int(document.get("limit", count))  # type: ignore[call-overload]
    return PageInfo(
        number=offset // max(limit, 1),
        count=count,
        total_elements=total,
        total_pages=None,  # derived paging would skip items if a page came back short
        # An empty page ends the query even before the total is reached: no endless loop.
        last=count == 0 or offset + count >= total,
    )


def _strings(value: object, name: str, where: str, url: str) -> list[str]:
    """A list-of-strings field that may also come as one string or null."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise _fail(url, f"{where}: field {name!r} is not a string, a list of strings or null")


def _keys(item: dict[str, object], where: str, url: str) -> list[str]:
    keys = item["leistungsschluessel"]
    if isinstance(keys, str) and keys.strip():
        return [keys]
    if isinstance(keys, list) and all(isinstance(k, str) and k.strip() for k in keys):
        return list(keys)  # an empty list gives no rows, as before
    raise _fail(
        url, f"{where}: field 'leistungsschluessel' is not a non-empty string or list of strings"
    )


def _ozg(item: dict[str, object], where: str, url: str) -> list[dict[str, object]]:
    ozg = item.get("ozg")
    if ozg is None:
        return []
    entries = [ozg] if isinstance(ozg, dict) else ozg
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise _fail(url, f"{where}: field 'ozg' is not an object, a list of objects or null")
    for entry in entries:
        ozg_id = entry.get("id")
        if ozg_id is not None and not isinstance(ozg_id, str) and not _is_int(ozg_id):
            raise _fail(url, f"{where}: field 'ozg.id' is not a string or an integer")
    return entries  # type: ignore[return-value]


def _stammtext_pair(item: dict[str, object], where: str, url: str) -> tuple[str, str] | None:
    """The first ``[redaktion_id, leistung_id]`` pair of ``leistung_stammtexte``."""
    pairs = item.get("leistung_stammtexte")
    if pairs is None:
        return None
    if not isinstance(pairs, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(v, str) or _is_int(v) for v in p)
        for p in pairs
    ):
        raise _fail(
            url,
            f"{where}: field 'leistung_stammtexte' is not a list of [redaktion_id, "
            "leistung_id] pairs",
        )
    return (str(pairs[0][0]), str(pairs[0][1])) if pairs else None


def _describe(index: int, item: dict[str, object]) -> str:
    keys = item.get("leistungsschluessel")
    first = (
        keys if isinstance(keys, str) else (keys[0] if isinstance(keys, list) and keys else None)
    )
    if isinstance(first, str):
        return f"item {index} (leistungsschluessel {first})"
    title = item.get("title")
    return f"item {index} (title {title!r})" if isinstance(title, str) else f"item {index}"


def parse_page(body: bytes, url: str, *, drift: DriftLog | None = None) -> pl.DataFrame:
    """One row per LeiKa key of each item (an item may carry several keys).

    Unknown fields are noted in ``drift`` (when given) and otherwise ignored."""
    document = _envelope(body, url)
    if drift is not None:
        for key in document:
            if key not in ENVELOPE_REQUIRED + ENVELOPE_OPTIONAL:
                drift.note(f"envelope.{key}", "response envelope", url)
    rows: list[dict[str, object]] = []
    wheres: list[str] = []  # the item of each row, to name it when a value is refused
    for index, item in enumerate(document["items"]):  # type: ignore[arg-type]
        if not isinstance(item, dict):
            raise _fail(url, f"item {index}: expected an object")
        where = _describe(index, item)
        missing = [f for f in REQUIRED_ITEM_FIELDS if item.get(f) is None]
        if missing:
            raise _fail(url, f"{where}: missing required field {missing[0]!r}")
        keys = _keys(item, where, url)
        ozg = _ozg(item, where, url)
        typisierung = _strings(item.get("typisierung"), "typisierung", where, url)
        adressat = _strings(item.get("leistungsadressat"), "leistungsadressat", where, url)
        pair = _stammtext_pair(item, where, url)
        freigabe = item.get("freigabe_status")
        if freigabe is not None and not _is_int(freigabe):
            raise _fail(url, f"{where}: field 'freigabe_status' is not an integer or null")
        if drift is not None:
            drift.note_unknown(item, ITEM_FIELDS, where, url)
            unknown = {name for entry in ozg for name in entry if name not in OZG_FIELDS}
            for name in sorted(unknown):
                drift.note(f"ozg.{name}", where, url)
        redaktion_id, leistung_id = item.get("redaktion_id"), item.get("leistung_id")
        if pair is not None:
            redaktion_id = pair[0] if redaktion_id is None else redaktion_id
            leistung_id = pair[1] if leistung_id is None else leistung_id
        for key in keys:
            # The OZG mapping is per LeiKa key; fall back to the item's first mapping
            # (the live API's single object applies to all keys of the item).
            match = next((o for o in ozg if o.get("leistungsschluessel") == key), None)
            match = match or (ozg[0] if ozg else {})
            ozg_id = match.get("id")
            rows.append(
                {
                    "leika_key": key,
                    "title": item.get("title"),
                    "leistungsbezeichnung": item.get("leistungsbezeichnung"),
                    "leistungsbezeichnung_2": item.get("leistungsbezeichnung_2"),
                    "typisierung": typisierung,
                    "leistungsadressat": adressat,
                    "leistungstyp": item.get("leistungstyp"),
                    "freigabe_status": freigabe,
                    "ozg_id": None if ozg_id is None else str(ozg_id),
                    "ozg_leistung": match.get("leistung"),
                    "themenfeld": match.get("themenfeld"),
                    "themenfeld_label": match.get("themenfeld_label"),
                    "redaktion_id": redaktion_id,
                    "leistung_id": leistung_id,
                    "geaendert_datum_zeit": item.get("geaendert_datum_zeit"),
                }
            )
            wheres.append(where)
    try:
        return pl.DataFrame(rows, schema=SCHEMA)
    except _FRAME_ERRORS as exc:
        raise _fail(url, _refused_value(rows, wheres, exc)) from exc


_FRAME_ERRORS = (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError)


def _refused_value(rows: list[dict[str, object]], wheres: list[str], exc: Exception) -> str:
    """Which item and field the frame refused (a list where text belongs, a lone surrogate,
    an integer beyond int32): rebuilt row by row, only after the frame failed."""
    for row, where in zip(rows, wheres, strict=True):
        for name, dtype in SCHEMA.items():
            try:
                pl.DataFrame([{name: row[name]}], schema={name: dtype})
            except _FRAME_ERRORS:
                return f"{where}: field {name!r} has an unexpected type or value: {row[name]!r:.80}"
    return f"field has an unexpected type: {exc}"


def describe_detail(body: bytes) -> str:
    """FastAPI's 422 ``detail``: a string, or a list of ``{loc, msg}`` (``query.limit: …``)."""
    try:
        detail = json.loads(body).get("detail")
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return body[:200].decode("utf-8", errors="replace") or "(empty body)"
    if isinstance(detail, list):
        parts = []
        for entry in detail:
            if isinstance(entry, dict):
                loc = ".".join(str(p) for p in entry.get("loc") or [])
                parts.append(f"{loc}: {entry.get('msg')}" if loc else str(entry.get("msg")))
            else:
                parts.append(str(entry))
        return "; ".join(parts) or "(empty detail)"
    return str(detail)


class FimClient:
    def __init__(self, base_url: str, http: HttpClient, path: str = PATH) -> None:
        self.base_url = base_url.rstrip("/")
        self.path = "/" + path.strip("/")
        self.http = http
        # The HTTP layer keeps only a snippet of an error body; a response hook keeps the
        # whole body of a 422 so its ``detail`` can be named (per thread: pages may be
        # fetched in parallel).
        self._rejected = threading.local()
        http.session.hooks["response"].append(self._remember_422)

    @classmethod
    def create(
        cls,
        base_url: str,
        settings: HttpSettings,
        session: requests.Session | None = None,
        path: str = PATH,
    ) -> FimClient:
        return cls(base_url, HttpClient(SOURCE, settings, session), path)

    def _remember_422(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        if response.status_code == 422:
            self._rejected.body = response.content

    def url(self) -> str:
        return self.base_url + self.path

    def fetch_page(self, offset: int, limit: int) -> Fetched:
        self._rejected.body = b""
        try:
            return self.http.get(
                self.url(),
                params={
                    "offset": str(offset),
                    "limit": str(min(limit, MAX_LIMIT)),
                    "order_by": "leistungsschluessel_asc",  # stable order while paging
                },
                headers={"Accept": "application/json"},
            )
        except SourceError as exc:
            if not exc.reason.startswith("HTTP 422"):
                raise
            detail = describe_detail(getattr(self._rejected, "body", b""))
            raise SourceError(
                SOURCE, exc.url, f"HTTP 422: the FIM Portal rejected the request: detail: {detail}"
            ) from exc
