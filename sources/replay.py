"""Replay transport: the embedded sample answered through ``requests``, without sockets.

In sample mode the very same clients run; only the session gets these transport
adapters mounted on the configured base URLs. Each adapter answers in its API's
exact wire format, pagination included, "as of" one snapshot date — the real APIs
have no snapshot parameter, so the replay plays the role of calling them on that
date. Real embedded files (GV100AD, PVOG Bund CSV) are served as they are; the
Dashboard and FIM answers come from the seeded generator.
"""

from __future__ import annotations

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


def dashboard_handler(
    snapshot: date, seed: int
) -> Callable[[str, dict[str, str], Mapping[str, str]], Answer]:
    from sources.sample.generator import build_universe

    universe = build_universe(seed)

    def handle(path: str, params: dict[str, str], headers: Mapping[str, str]) -> Answer:
        page, size = _int_param(params, "page", 0), _int_param(params, "size", 100)
        if page is None or size is None or size < 1:
            return _error(400, "page and size must be non-negative integers")
        if path in ("/v1/ars", "/open-ars"):
            return _json(_spring_page(universe.ars_list(), page, size, path == "/open-ars"))
        match = re.fullmatch(r"/(?:v1/data|open-pvog)/([^/]+)", path)
        if not match:
            return _error(404, f"no such endpoint {path}")
        ars = match.group(1)
        if not re.fullmatch(r"\d{12}", ars):
            return _error(400, "ars must match ^\\d{12}$")
        flags = {}
        for name in ("includeAbove", "includeBelow"):
            value = params.get(name, "true")
            if value not in ("true", "false"):
                return _error(400, f"{name} must be 'true' or 'false'")
            flags[name] = value == "true"
        records = universe.dashboard_records(
            snapshot, ars, include_above=flags["includeAbove"], include_below=flags["includeBelow"]
        )
        return _json(_spring_page(records, page, size, path.startswith("/open-pvog")))

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


def fim_handler(seed: int) -> Callable[[str, dict[str, str], Mapping[str, str]], Answer]:
    from sources.sample.generator import build_universe

    items = build_universe(seed).fim_items()

    def handle(path: str, params: dict[str, str], headers: Mapping[str, str]) -> Answer:
        if path != "/api/v0/leistung-steckbriefe":
            return _error(404, f"no such endpoint {path}")
        offset, limit = _int_param(params, "offset", 0), _int_param(params, "limit", 200)
        if offset is None or limit is None or not 1 <= limit <= 200:
            return 422, {"Content-Type": "application/json"}, b'{"detail":"invalid offset/limit"}'
        chunk = items[offset : offset + limit]
        return _json(
            {
                "items": chunk,
                "offset": offset,
                "limit": limit,
                "count": len(chunk),
                "total_count": len(items),
            }
        )

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
    def handle(path: str, params: dict[str, str], headers: Mapping[str, str]) -> Answer:
        if not re.search(r"/GV100AD[^/]*\.zip$", path):
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
        settings.dashboard_url: dashboard_handler(snapshot, settings.sample_seed),
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
