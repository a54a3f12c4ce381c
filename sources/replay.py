"""Replay transport: the embedded sample answered through ``requests``, without sockets.

In sample mode the very same clients run; only the session gets these transport
adapters mounted on the configured base URLs. Each adapter answers in its API's
exact wire format, pagination included, "as of" one snapshot date — the real APIs
have no snapshot parameter, so the replay plays the role of calling them on that
date. Real embedded files (GV100AD, PVOG Bund CSV) are served as they are; the
Dashboard and FIM answers come from the seeded generator.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import zipfile
from collections.abc import Callable, Mapping
from datetime import date
from functools import cache
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from sources.config import Settings
from sources.sample import files

Answer = tuple[int, dict[str, str], bytes]
GV100AD_LAST_MODIFIED = "Fri, 31 Oct 2025 08:00:00 GMT"


def _json(document: object) -> Answer:
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    return 200, {"Content-Type": "application/json"}, body


def _error(status: int, message: str) -> Answer:
    body = json.dumps({"status": status, "error": message}).encode("utf-8")
    return status, {"Content-Type": "application/json"}, body


class _ReplayAdapter(BaseAdapter):
    """Turns a handler ``(path, params, headers) -> Answer`` into a requests transport."""

    def __init__(
        self, base_url: str, handler: Callable[[str, dict[str, str], Mapping[str, str]], Answer]
    ) -> None:
        super().__init__()
        self.base_path = urlsplit(base_url).path.rstrip("/")
        self.handler = handler

    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        parts = urlsplit(request.url or "")
        path = (
            parts.path[len(self.base_path) :]
            if parts.path.startswith(self.base_path)
            else parts.path
        )
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if request.method not in ("GET", "HEAD"):
            status, headers, body = _error(405, "method not allowed")
        else:
            status, headers, body = self.handler(path, params, request.headers)
        response = requests.Response()
        response.status_code = status
        response.reason = {
            200: "OK",
            304: "Not Modified",
            400: "Bad Request",
            404: "Not Found",
        }.get(status, "")
        response.headers = CaseInsensitiveDict({**headers, "Content-Length": str(len(body))})
        response._content = b"" if request.method == "HEAD" else body
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


def _spring_page(
    content: list[dict[str, object]], page: int, size: int, spring33: bool
) -> dict[str, object]:
    total = len(content)
    total_pages = math.ceil(total / size) if size else 0
    chunk = content[page * size : (page + 1) * size]
    if spring33:  # Spring Data 3.3 "PagedModel" form seen on the Data Hub host
        return {
            "content": chunk,
            "page": {
                "size": size,
                "number": page,
                "totalElements": total,
                "totalPages": total_pages,
            },
        }
    sort = {"empty": True, "sorted": False, "unsorted": True}
    return {
        "totalPages": total_pages,
        "totalElements": total,
        "size": size,
        "content": chunk,
        "number": page,
        "sort": sort,
        "first": page == 0,
        "last": page + 1 >= total_pages,
        "numberOfElements": len(chunk),
        "pageable": {
            "offset": page * size,
            "sort": sort,
            "pageNumber": page,
            "pageSize": size,
            "paged": True,
            "unpaged": False,
        },
        "empty": not chunk,
    }


def _int_param(params: dict[str, str], name: str, default: int) -> int | None:
    value = params.get(name, str(default))
    return int(value) if value.isdigit() else None


# Export dialects of the replay: host B as a realistic German export (";", UTF-8 with BOM,
# CRLF), host A's file answer as a plain one (",", no BOM, LF). The real dialects are
# unconfirmed (docs/contracts/dashboard.md); the parser detects them from the body.
HOST_B_EXPORT = (";", True, "\r\n")  # delimiter, BOM, line end
HOST_A_EXPORT = (",", False, "\n")


def export_csv(
    records: list[dict[str, object]], *, delimiter: str, bom: bool, line_end: str
) -> bytes:
    """Records as a CSV file in the column order of the wire format (``dashboard.FIELDS``):
    standard quoting, null and empty both as an empty cell."""
    from sources.dashboard import FIELDS, UTF8_BOM

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(FIELDS)
    for record in records:
        writer.writerow(["" if record.get(f) is None else str(record[f]) for f in FIELDS])
    return (UTF8_BOM if bom else b"") + buffer.getvalue().encode("utf-8")


def _accepts_file(headers: Mapping[str, str]) -> bool:
    """Does the Accept header allow ``application/octet-stream``? (No header: anything.)"""
    accept = headers.get("Accept")
    if accept is None:
        return True
    types = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    return bool(types & {"application/octet-stream", "application/*", "*/*"})


def universe_for(  # type: ignore[no-untyped-def]
    seed: int, *, rehearsal: bool = False, land: str = "06"
):
    """The sample universe of ``land``, or its rehearsal variant answering like the real APIs
    (``sources/sample/rehearsal.py``: municipal Typisierung, Hanau under its new ARS)."""
    from sources.sample.generator import build_universe
    from sources.sample.rehearsal import RehearsalUniverse

    universe = build_universe(seed, land)
    return RehearsalUniverse(universe) if rehearsal else universe


def dashboard_handler(
    snapshot: date, seed: int, *, rehearsal: bool = False, land: str = "06"
) -> Callable[[str, dict[str, str], Mapping[str, str]], Answer]:
    """Both hosts: host B's export ``/open-pvog/{ars}/export`` (406 unless the Accept header
    allows ``application/octet-stream``), host A's file answer ``/v1/data/{ars}?filetype=csv``
    and the paged JSON of both (``/open-pvog/{ars}``, ``/v1/data/{ars}``, ``/open-ars``,
    ``/v1/ars``). Every answer carries the same records in the same order. The sample is
    generated per Land: this handler answers for ``land`` (its ARS and the Bund's; the ARS
    list is the Land's), as the replay of one Land partition needs."""
    universe = universe_for(seed, rehearsal=rehearsal, land=land)

    def handle(path: str, params: dict[str, str], headers: Mapping[str, str]) -> Answer:
        page, size = _int_param(params, "page", 0), _int_param(params, "size", 100)
        if path in ("/v1/ars", "/open-ars"):
            if page is None or size is None or size < 1:
                return _error(400, "page and size must be non-negative integers")
            return _json(_spring_page(universe.ars_list(), page, size, path == "/open-ars"))
        export = re.fullmatch(r"/open-pvog/([^/]+)/export", path)
        match = export or re.fullmatch(r"/(?:v1/data|open-pvog)/([^/]+)", path)
        if not match:
            return _error(404, f"no such endpoint {path}")
        ars = match.group(1)
        if not re.fullmatch(r"\d{12}", ars):
            return _error(400, "ars must match ^\\d{12}$")
        flags = {}
        for name in ("includeAbove", "includeBelow"):
            value = params.get(name) or "true"  # absent or empty: the default
            if value not in ("true", "false"):
                return _error(400, f"{name} must be 'true' or 'false'")
            flags[name] = value == "true"
        file_answer = export is not None or (path.startswith("/v1/data/") and "filetype" in params)
        if not file_answer and (page is None or size is None or size < 1):
            return _error(400, "page and size must be non-negative integers")
        if file_answer and params.get("filetype", "csv") != "csv":
            return _error(400, f"filetype {params['filetype']!r} is not served here (csv only)")
        if file_answer and not _accepts_file(headers):
            return 406, {}, b""  # Spring: no representation for the Accept header sent
        records = universe.dashboard_records(
            snapshot, ars, include_above=flags["includeAbove"], include_below=flags["includeBelow"]
        )
        if not file_answer:
            return _json(_spring_page(records, page or 0, size or 1, path.startswith("/open-pvog")))
        delimiter, bom, line_end = HOST_B_EXPORT if export else HOST_A_EXPORT
        body = export_csv(records, delimiter=delimiter, bom=bom, line_end=line_end)
        disposition = f'attachment; filename="export_{ars}.csv"'
        return (
            200,
            {"Content-Type": "application/octet-stream", "Content-Disposition": disposition},
            body,
        )

    return handle


def pvog_handler() -> Callable[[str, dict[str, str], Mapping[str, str]], Answer]:
    def handle(path: str, params: dict[str, str], headers: Mapping[str, str]) -> Answer:
        if path != "/v5/servicedescriptions/csv":
            return _error(404, f"no such endpoint {path}")
        if params.get("ars") != files.PVOG_BUND_ARS:
            # Only the real Bund export is embedded; never invent other PVOG answers.
            return _error(404, f"ARS {params.get('ars')} is not in the embedded sample (Bund only)")
        return 200, {"Content-Type": "text/csv;charset=UTF-8"}, files.PVOG_BUND_CSV.read_bytes()

    return handle


def fim_handler(
    seed: int, *, rehearsal: bool = False
) -> Callable[[str, dict[str, str], Mapping[str, str]], Answer]:
    # The evidenced live shape (docs/contracts/fim.md): envelope ``items`` + ``total_count``
    # only; items with a string ``leistungsschluessel``, one ``ozg`` object and
    # ``leistung_stammtexte`` pairs. v0 is still served, v1 answers the same.
    items = universe_for(seed, rehearsal=rehearsal).fim_items(shape="steckbrief")

    def handle(path: str, params: dict[str, str], headers: Mapping[str, str]) -> Answer:
        if path not in ("/api/v0/leistung-steckbriefe", "/api/v1/leistung-steckbriefe"):
            return _error(404, f"no such endpoint {path}")
        offset, limit = _int_param(params, "offset", 0), _int_param(params, "limit", 200)
        if offset is None or limit is None or not 1 <= limit <= 200:
            return 422, {"Content-Type": "application/json"}, b'{"detail":"invalid offset/limit"}'
        return _json({"items": items[offset : offset + limit], "total_count": len(items)})

    return handle


@cache
def gv100ad_zip() -> bytes:
    """A deterministic zip holding the embedded GV100AD file, as Destatis ships it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in (files.GV100AD_TXT, files.GV100AD_HINWEISE):
            info = zipfile.ZipInfo(path.name, date_time=(2025, 10, 31, 8, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def destatis_handler() -> Callable[[str, dict[str, str], Mapping[str, str]], Answer]:
    """The embedded zip under the evidenced annual names only: ``GV100AD3112YYYY.zip`` for
    2018–2024, ``GV100AD_3112YYYY.zip`` from 2025; anything else is Destatis' HTML 404."""

    def handle(path: str, params: dict[str, str], headers: Mapping[str, str]) -> Answer:
        match = re.search(r"/GV100ADJ/GV100AD(_?)3112(\d{4})\.zip$", path)
        year = int(match.group(2)) if match else 0
        evidenced = match is not None and (
            (match.group(1) == "" and 2018 <= year <= 2024)
            or (match.group(1) == "_" and year >= 2025)
        )
        if not evidenced:
            return (
                404,
                {"Content-Type": "text/html"},
                b"<!DOCTYPE html><html>Seite nicht gefunden</html>",
            )
        body = gv100ad_zip()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        validators = {"ETag": etag, "Last-Modified": GV100AD_LAST_MODIFIED}
        if headers.get("If-None-Match") == etag:
            return 304, validators, b""
        return 200, {"Content-Type": "application/zip", **validators}, body

    return handle


def replay_session(settings: Settings, snapshot: date) -> requests.Session:
    """A session whose requests to the four configured base URLs are answered offline."""
    session = requests.Session()
    routes = {
        settings.dashboard_url: dashboard_handler(
            snapshot, settings.sample_seed, land=settings.land
        ),
        settings.pvog_url: pvog_handler(),
        settings.fim_url: fim_handler(settings.sample_seed),
        settings.destatis_url: destatis_handler(),
    }
    # Anything else would need the network, which sample mode never uses. requests
    # picks the longest matching prefix, so the replay mounts win over these.
    session.mount("http://", _Refuse())
    session.mount("https://", _Refuse())
    for base_url, handler in routes.items():
        session.mount(base_url.rstrip("/") + "/", _ReplayAdapter(base_url, handler))
    return session


class _Refuse(BaseAdapter):
    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        raise requests.ConnectionError(f"sample mode is offline; refused {request.url}")

    def close(self) -> None:
        pass
