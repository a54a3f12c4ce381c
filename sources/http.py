"""The HTTP layer every source client uses.

One ``HttpClient`` per source. It adds what the public APIs need and ``requests``
does not do by itself: connect/read timeouts, retries with exponential backoff and
full jitter on connection errors, 429 and 5xx (honouring ``Retry-After``), a total
deadline per logical request, a politeness interval per host, an identifying
User-Agent, conditional requests, and validation of what came back (status,
content type, a parseable and complete body). An HTML error page served with
status 200 is an error, and so is a truncated body.

Every error is a ``SourceError`` naming the source, the URL and the reason.
"""

from __future__ import annotations

import email.utils
import io
import json
import random
import threading
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar, Literal
from urllib.parse import urlencode, urlsplit

import requests

from sources.config import USER_AGENT, HttpSettings

Expect = Literal["json", "csv", "zip", "text"]

# Headers kept in the landing manifest: enough to audit caching and provenance.
SELECTED_HEADERS = (
    "content-type",
    "content-length",
    "content-encoding",
    "etag",
    "last-modified",
    "date",
    "retry-after",
    "x-total-count",
)

_ACCEPTED_CONTENT_TYPES: dict[str, tuple[str, ...]] = {
    "json": ("application/json", "application/problem+json", "text/json"),
    "csv": ("text/csv", "text/plain", "application/octet-stream", "application/csv"),
    "zip": ("application/zip", "application/x-zip-compressed", "application/octet-stream"),
    "text": ("text/plain", "application/octet-stream"),
}
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class SourceError(RuntimeError):
    """A request to an upstream source failed; the message names source, URL and reason."""

    def __init__(self, source: str, url: str, reason: str) -> None:
        super().__init__(f"{source}: {reason} ({url})")
        self.source = source
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class Fetched:
    """A validated response, kept exactly as received."""

    source: str
    url: str  # full URL including the query string
    params: dict[str, str]
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime
    elapsed_s: float
    attempts: int
    not_modified: bool = False

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class _HostGate:
    """Politeness: enforces a minimum interval between request starts to one host."""

    min_interval: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_slot: float = 0.0

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.min_interval
        if slot > now:
            time.sleep(slot - now)


class HttpClient:
    """Resilient GET requests for one named source."""

    # Shared by all clients in the process: politeness is per host, not per client.
    _gates: ClassVar[dict[str, _HostGate]] = {}
    _gates_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        source: str,
        settings: HttpSettings,
        session: requests.Session | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.source = source
        self.settings = settings
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self._sleep = sleep
        self._rng = rng or random.Random()

    def _gate(self, url: str) -> _HostGate:
        host = urlsplit(url).netloc
        with self._gates_lock:
            gate = self._gates.get(host)
            if gate is None or gate.min_interval != self.settings.min_interval:
                gate = _HostGate(self.settings.min_interval)
                self._gates[host] = gate
            return gate

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.settings.backoff_max)
        ceiling = min(self.settings.backoff_max, self.settings.backoff_base * 2 ** (attempt - 1))
        return self._rng.uniform(0, ceiling)  # full jitter

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Expect = "json",
        validators: Mapping[str, str] | None = None,
    ) -> Fetched:
        """GET ``url`` and return the validated response.

        ``validators`` may hold ``etag`` / ``last-modified`` of an earlier response;
        they are sent as ``If-None-Match`` / ``If-Modified-Since`` and a 304 answer
        comes back as ``Fetched(not_modified=True, body=b"")``.
        """
        params = {k: str(v) for k, v in (params or {}).items()}
        full_url = f"{url}?{urlencode(params)}" if params else url
        request_headers = dict(headers or {})
        if validators:
            if validators.get("etag"):
                request_headers["If-None-Match"] = validators["etag"]
            if validators.get("last-modified"):
                request_headers["If-Modified-Since"] = validators["last-modified"]

        s = self.settings
        started = time.monotonic()
        deadline = started + s.deadline
        attempt = 0
        last_reason = "no attempt made"
        while attempt < s.max_attempts:
            remaining = deadline - time.monotonic()
            if remaining <= 0:  # a backoff overslept the deadline: no attempt is left
                raise SourceError(
                    self.source,
                    full_url,
                    f"deadline of {s.deadline:g}s exceeded after {attempt} attempt(s); "
                    f"last error: {last_reason}",
                )
            attempt += 1
            self._gate(url).wait()
            retry_after: float | None = None
            try:
                response = self.session.get(
                    url,
                    params=params,
                    headers=request_headers,
                    timeout=(min(s.connect_timeout, remaining), min(s.read_timeout, remaining)),
                )
                body = response.content
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,  # body cut off mid-transfer
            ) as exc:
                last_reason = f"{type(exc).__name__}: {_short(exc)}"
            except requests.RequestException as exc:  # invalid URL, too many redirects, …
                raise SourceError(self.source, full_url, f"request failed: {_short(exc)}") from exc
            else:
                if response.status_code == 304 and validators:
                    return self._fetched(full_url, params, response, b"", started, attempt, True)
                if response.status_code in _RETRY_STATUSES:
                    last_reason = f"HTTP {response.status_code} {response.reason or ''}".strip()
                    retry_after = _parse_retry_after(response.headers.get("Retry-After"))
                elif response.status_code != 200:
                    raise SourceError(
                        self.source,
                        full_url,
                        f"HTTP {response.status_code} {response.reason or ''}: "
                        f"{_snippet(body)}".strip(),
                    )
                else:
                    self._validate(full_url, response, body, expect)
                    return self._fetched(full_url, params, response, body, started, attempt)
            if attempt >= s.max_attempts:
                break
            pause = self._backoff(attempt, retry_after)
            if time.monotonic() + pause > deadline:
                raise SourceError(
                    self.source,
                    full_url,
                    f"deadline of {s.deadline:g}s exceeded after {attempt} attempt(s); "
                    f"last error: {last_reason}",
                )
            self._sleep(pause)
        raise SourceError(
            self.source,
            full_url,
            f"gave up after {attempt} attempt(s) in {time.monotonic() - started:.1f}s; "
            f"last error: {last_reason}",
        )

    def _fetched(
        self,
        full_url: str,
        params: dict[str, str],
        response: requests.Response,
        body: bytes,
        started: float,
        attempts: int,
        not_modified: bool = False,
    ) -> Fetched:
        headers = {k: response.headers[k] for k in SELECTED_HEADERS if k in response.headers}
        return Fetched(
            source=self.source,
            url=full_url,
            params=params,
            status=response.status_code,
            headers=headers,
            body=body,
            fetched_at=datetime.now(UTC),
            elapsed_s=round(time.monotonic() - started, 4),
            attempts=attempts,
            not_modified=not_modified,
        )

    def _validate(self, url: str, response: requests.Response, body: bytes, expect: Expect) -> None:
        def fail(reason: str) -> SourceError:
            return SourceError(self.source, url, reason)

        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        head = body[:512].lstrip().lower()
        if content_type == "text/html" or head.startswith((b"<!doctype html", b"<html")):
            raise fail(f"expected {expect} but got an HTML page (status 200): {_snippet(body)}")
        if content_type and content_type not in _ACCEPTED_CONTENT_TYPES[expect]:
            raise fail(f"unexpected content type {content_type!r} for {expect}")
        declared = response.headers.get("Content-Length")
        encoded = response.headers.get("Content-Encoding", "identity").lower()
        if declared and encoded == "identity" and declared.isdigit() and int(declared) != len(body):
            raise fail(f"truncated body: {len(body)} of {declared} bytes received")
        if not body:
            raise fail("empty body")
        if expect == "json":
            try:
                json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise fail(f"truncated or invalid JSON: {exc}") from exc
        elif expect == "zip":
            try:
                with zipfile.ZipFile(io.BytesIO(body)) as archive:
                    broken = archive.testzip()
            except zipfile.BadZipFile as exc:
                raise fail(f"truncated or invalid zip archive: {exc}") from exc
            if broken:
                raise fail(f"corrupt member {broken!r} in zip archive")


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _snippet(body: bytes, limit: int = 120) -> str:
    text = body[:limit].decode("utf-8", errors="replace")
    return " ".join(text.split()) + ("…" if len(body) > limit else "")


def _short(exc: BaseException, limit: int = 200) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "…"
