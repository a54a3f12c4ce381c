"""The HTTP layer every source client uses.

One ``HttpClient`` per source. It adds what the public APIs need and ``requests``
does not do by itself: connect/read timeouts, retries with exponential backoff and
full jitter on connection errors, 429 and 5xx (honouring ``Retry-After``), a total
deadline per logical request, a politeness interval per host, an identifying
User-Agent, conditional requests, and validation of what came back (status,
content type, a parseable and complete body). An HTML error page served with
status 200 is an error, and so is a truncated body.

It also stands up to hostile answers: a response larger than ``max_bytes`` (declared
or streamed, before and after gzip/deflate decoding, and the members of a zip) fails
without being retried; redirects are followed by hand, only on the requested host
(or the ``redirect_hosts`` allow-list) and never from https to http; TLS verification
cannot be switched off through the session; and the deadline also bounds the body,
which a server dripping one byte at a time would otherwise stretch without limit.

Every error is a ``SourceError`` naming the source, the URL and the reason.
"""

from __future__ import annotations

import contextlib
import email.utils
import io
import json
import logging
import random
import socket
import ssl
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import ClassVar, Literal
from urllib.parse import SplitResult, urlencode, urljoin, urlsplit

import requests

from sources.config import USER_AGENT, HttpSettings

Expect = Literal["json", "csv", "zip", "text"]
Method = Literal["GET", "HEAD"]

# One WARNING line per retry (source, cause, pause): `ozg run` shows it on the console; in
# a Dagster run without a handler Python's last-resort handler writes it to stderr.
log = logging.getLogger(__name__)

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
# Transport failures worth another attempt; a cap violation or a refused redirect is not.
_TRANSIENT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,  # body cut off mid-transfer
)
MAX_REDIRECTS = 5
_CHUNK_BYTES = 64 * 1024  # the size cap and the deadline are checked once per chunk
_ERROR_BODY_BYTES = 64 * 1024  # of an error answer only a snippet is reported
_DEFAULT_PORTS = {"http": 80, "https": 443}
# The only request headers sent on after a redirect to another (allow-listed) host: the
# others a caller adds (the PVOG client id) are meant for the host it asked.
_PORTABLE_HEADERS = frozenset(
    {"accept", "accept-encoding", "accept-language", "if-none-match", "if-modified-since"}
)


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


@dataclass(frozen=True)
class _Budget:
    """The time one logical request may take, retries and the body included."""

    started: float
    end: float
    by_caller: bool  # the caller's overall budget (``HttpSettings.until``) ends it first

    @classmethod
    def start(cls, settings: HttpSettings) -> _Budget:
        started = time.monotonic()
        end = started + settings.deadline
        if settings.until is not None and settings.until < end:
            return cls(started, settings.until, by_caller=True)
        return cls(started, end, by_caller=False)

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def describe(self) -> str:
        seconds = f"{round(max(0.0, self.end - self.started), 1):g}"
        return f"deadline of {seconds}s" + (
            " (the caller's overall budget)" if self.by_caller else ""
        )


class _Watchdog:
    """Shuts a streamed response's socket down when the deadline passes.

    The read timeout applies per socket read: a server sending one byte a second never
    trips it, and one chunk of ``iter_content`` waits for 64 KiB. Only a shutdown from
    another thread wakes a read blocked in the socket at the deadline."""

    def __init__(self, response: requests.Response, seconds: float) -> None:
        self.fired = False
        self._sock = _socket_of(response)
        self._timer = threading.Timer(max(0.0, seconds), self._cut)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        if self._sock is not None:  # in-memory transports have no socket and cannot hang
            self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._timer.cancel()

    def _cut(self) -> None:
        self.fired = True
        with contextlib.suppress(OSError):  # already closed: nothing left to wake
            # The plain socket's shutdown, also for TLS: SSLSocket.shutdown would first
            # drop the TLS object under the reading thread.
            socket.socket.shutdown(self._sock, socket.SHUT_RDWR)  # type: ignore[arg-type]


class HttpClient:
    """Resilient GET and HEAD requests for one named source."""

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
        self._verify = _tls_verification(source, self.session)
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
        request_headers = dict(headers or {})
        if validators:
            if validators.get("etag"):
                request_headers["If-None-Match"] = validators["etag"]
            if validators.get("last-modified"):
                request_headers["If-Modified-Since"] = validators["last-modified"]
        return self._request("GET", url, params, request_headers, expect, bool(validators))

    def head(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fetched:
        """HEAD ``url`` with the retries, politeness, redirect rules and deadline of
        ``get``; status 200 is expected. The answer has the selected headers (ETag,
        Last-Modified, …) and an empty body."""
        return self._request("HEAD", url, params, dict(headers or {}), None, False)

    def _request(
        self,
        method: Method,
        url: str,
        params: Mapping[str, str] | None,
        headers: dict[str, str],
        expect: Expect | None,
        conditional: bool,
    ) -> Fetched:
        """One logical request: attempts with backoff until success, a permanent error,
        the attempts or the deadline run out."""
        params = {k: str(v) for k, v in (params or {}).items()}
        full_url = f"{url}?{urlencode(params)}" if params else url
        s = self.settings
        budget = _Budget.start(s)
        attempt = 0
        last_reason = "no attempt made"
        cause = ""  # what the retry log line names: the status, or the exception class
        while attempt < s.max_attempts:
            if budget.remaining() <= 0:  # a backoff overslept the deadline: no attempt is left
                raise self._deadline_error(full_url, budget, attempt, last_reason)
            attempt += 1
            retry_after: float | None = None
            try:
                response, body = self._exchange(method, url, params, headers, full_url, budget)
            except requests.exceptions.SSLError as exc:
                if _certificate_rejected(exc):  # a wrong certificate stays wrong: no retry
                    raise SourceError(
                        self.source, full_url, f"TLS certificate verification failed: {_short(exc)}"
                    ) from exc
                last_reason = f"{type(exc).__name__}: {_short(exc)}"  # e.g. a broken handshake
                cause = type(exc).__name__
            except _TRANSIENT as exc:
                last_reason = f"{type(exc).__name__}: {_short(exc)}"
                cause = type(exc).__name__
            except requests.RequestException as exc:  # invalid URL, undecodable body, …
                raise SourceError(self.source, full_url, f"request failed: {_short(exc)}") from exc
            else:
                status = response.status_code
                if status == 304 and conditional:
                    return self._fetched(full_url, params, response, b"", budget, attempt, True)
                if status in _RETRY_STATUSES:
                    last_reason = f"HTTP {status} {response.reason or ''}".strip()
                    cause = last_reason
                    retry_after = _parse_retry_after(response.headers.get("Retry-After"))
                elif status != 200:
                    raise SourceError(self.source, full_url, _status_reason(method, response, body))
                else:
                    if expect is not None:
                        self._validate(full_url, response, body, expect)
                    return self._fetched(full_url, params, response, body, budget, attempt)
            if attempt >= s.max_attempts:
                break
            pause = self._backoff(attempt, retry_after)
            if pause > budget.remaining():
                raise self._deadline_error(full_url, budget, attempt, last_reason)
            # No URL in the line: a query may carry a token, and the source is what to act on.
            log.warning(
                "HTTP-Wiederholung %s: %s, Pause %.1fs, dann Versuch %d von %d",
                self.source,
                cause,
                pause,
                attempt + 1,
                s.max_attempts,
            )
            self._sleep(pause)
        raise SourceError(
            self.source,
            full_url,
            f"gave up after {attempt} attempt(s) in {time.monotonic() - budget.started:.1f}s; "
            f"last error: {last_reason}",
        )

    def _deadline_error(
        self, full_url: str, budget: _Budget, attempts: int, last_reason: str
    ) -> SourceError:
        return SourceError(
            self.source,
            full_url,
            f"{budget.describe()} exceeded after {attempts} attempt(s); last error: {last_reason}",
        )

    # -- one attempt: the redirect hops and the body -----------------------------------------
    def _exchange(
        self,
        method: Method,
        url: str,
        params: dict[str, str],
        headers: dict[str, str],
        full_url: str,
        budget: _Budget,
    ) -> tuple[requests.Response, bytes]:
        """Send the request and follow redirects by hand: ``requests`` would follow them
        to any host and scheme. Returns the final response and its (capped) body."""
        origin = urlsplit(url)
        target, query, hop_headers = url, params or None, headers
        for _ in range(MAX_REDIRECTS + 1):
            self._gate(target).wait()
            response = self.session.request(
                method,
                target,
                params=query,
                headers=hop_headers,
                timeout=self._timeouts(budget),
                stream=True,  # the body is read under the size cap and the deadline
                allow_redirects=False,
                verify=self._verify,  # per request: wins over switching the session's off later
            )
            if not response.is_redirect:
                return response, self._body(method, response, full_url, budget)
            location = urljoin(response.url, response.headers["Location"])
            current = urlsplit(response.url)
            _close(response)
            self._check_redirect(full_url, origin, current, urlsplit(location))
            if _host_key(urlsplit(location)) != _host_key(origin):
                hop_headers = {k: v for k, v in headers.items() if k.lower() in _PORTABLE_HEADERS}
            target, query = location, None
        raise SourceError(self.source, full_url, f"more than {MAX_REDIRECTS} redirects")

    def _timeouts(self, budget: _Budget) -> tuple[float, float]:
        remaining = budget.remaining()
        if remaining <= 0:  # spent on the redirect hops: the caller reports the deadline
            raise requests.Timeout("deadline reached before the request could be sent")
        s = self.settings
        return min(s.connect_timeout, remaining), min(s.read_timeout, remaining)

    def _check_redirect(
        self, full_url: str, origin: SplitResult, current: SplitResult, target: SplitResult
    ) -> None:
        shown = _without_query(target)
        if target.scheme not in _DEFAULT_PORTS:
            raise SourceError(self.source, full_url, f"redirect to a non-HTTP URL refused: {shown}")
        if current.scheme == "https" and target.scheme != "https":
            raise SourceError(
                self.source, full_url, f"redirect from https to http refused: {shown}"
            )
        key = _host_key(target)
        if key is None or (key != _host_key(origin) and not self._allowed_host(target)):
            raise SourceError(
                self.source,
                full_url,
                f"redirect to another host refused: {shown} (redirects stay on the requested "
                f"host unless OZG_HTTP_REDIRECT_HOSTS lists the other one)",
            )

    def _allowed_host(self, target: SplitResult) -> bool:
        host = (target.hostname or "").lower()
        port = target.port or _DEFAULT_PORTS[target.scheme]
        allowed = self.settings.redirect_hosts
        return host in allowed or f"{host}:{port}" in allowed

    def _body(
        self, method: Method, response: requests.Response, full_url: str, budget: _Budget
    ) -> bytes:
        """The body: none for HEAD and 304, a snippet of an error answer, else all of it
        under the size cap (``SourceError`` beyond it)."""
        try:
            if method == "HEAD" or response.status_code == 304:
                return b""
            if response.status_code != 200:
                return self._read(response, full_url, budget, _ERROR_BODY_BYTES, strict=False)
            declared = _declared_length(response)
            if declared is not None and declared > self.settings.max_bytes:
                raise self._too_large(full_url, f"{declared} bytes declared (Content-Length)")
            return self._read(response, full_url, budget, self.settings.max_bytes, strict=True)
        finally:
            _close(response)

    def _read(
        self,
        response: requests.Response,
        full_url: str,
        budget: _Budget,
        limit: int,
        *,
        strict: bool,
    ) -> bytes:
        """Up to ``limit`` decoded bytes; beyond it an error (``strict``) or a cut."""
        if response.raw is None:  # an in-memory transport (the sample replay): already read
            body = response.content
            if strict and len(body) > limit:
                raise self._too_large(full_url, f"{len(body)} bytes received")
            return body[:limit]
        chunks: list[bytes] = []
        received = 0
        with _Watchdog(response, budget.remaining()) as watchdog:
            try:
                for chunk in response.iter_content(_CHUNK_BYTES):
                    received += len(chunk)
                    if received > limit:
                        if strict:
                            raise self._too_large(full_url, _received(response, received))
                        chunks.append(chunk[: len(chunk) - (received - limit)])
                        break
                    chunks.append(chunk)
                    if budget.remaining() <= 0:
                        raise self._stalled(full_url, budget, received)
            except requests.RequestException as exc:
                if watchdog.fired:  # the read ended because the watchdog cut the socket
                    raise self._stalled(full_url, budget, received) from exc
                raise
        if watchdog.fired:  # the cut can look like a normal end of a body of unknown length
            raise self._stalled(full_url, budget, received)
        return b"".join(chunks)

    def _too_large(self, full_url: str, what: str) -> SourceError:
        cap = self.settings.max_bytes
        return SourceError(
            self.source,
            full_url,
            f"response too large: {what}, above the cap of {cap} bytes (OZG_HTTP_MAX_BYTES)",
        )

    def _stalled(self, full_url: str, budget: _Budget, received: int) -> SourceError:
        return SourceError(
            self.source,
            full_url,
            f"{budget.describe()} exceeded while receiving the body: {received} bytes in "
            f"{time.monotonic() - budget.started:.1f}s (a stalled or slow-drip transfer)",
        )

    def _fetched(
        self,
        full_url: str,
        params: dict[str, str],
        response: requests.Response,
        body: bytes,
        budget: _Budget,
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
            elapsed_s=round(time.monotonic() - budget.started, 4),
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
        declared = _declared_length(response)
        encoded = response.headers.get("Content-Encoding", "identity").lower()
        if declared is not None and encoded == "identity" and declared != len(body):
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
                    self._check_inflated_size(url, archive)
                    broken = archive.testzip()
            except zipfile.BadZipFile as exc:
                raise fail(f"truncated or invalid zip archive: {exc}") from exc
            if broken:
                raise fail(f"corrupt member {broken!r} in zip archive")

    def _check_inflated_size(self, url: str, archive: zipfile.ZipFile) -> None:
        """A zip bomb fails before anything is inflated. The declared sizes are binding:
        ``zipfile`` stops a member at its declared size and a longer one fails its CRC."""
        inflated = sum(info.file_size for info in archive.infolist())
        if inflated > self.settings.max_bytes:
            raise self._too_large(url, f"the zip archive inflates to {inflated} bytes")


def gunzip_capped(data: bytes, cap: int) -> bytes:
    """``gzip.decompress`` that stops inflating past ``cap`` bytes (``ValueError``): for
    gzip data read back from disk, which a small corrupt or planted file could turn into
    gigabytes. Several members are read one after another, as ``gzip`` does."""
    out = bytearray()
    rest = data
    while rest:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # the gzip container
        out += inflater.decompress(rest, cap + 1 - len(out))
        if len(out) > cap:
            raise ValueError(f"gzip data inflates beyond the cap of {cap} bytes")
        if not inflater.eof:
            raise EOFError("gzip data ended before the end-of-stream marker")
        rest = inflater.unused_data
    return bytes(out)


def _tls_verification(source: str, session: requests.Session) -> bool | str:
    """What every request passes as ``verify``: the session's CA bundle path, else True
    (``requests`` then honours ``REQUESTS_CA_BUNDLE``). Verification is never off: a
    session that comes with verification switched off is refused."""
    if session.verify is False:
        raise ValueError(
            f"{source}: TLS certificate verification must stay on (the session has it switched off)"
        )
    return session.verify if isinstance(session.verify, str) else True


def _certificate_rejected(exc: BaseException) -> bool:
    """Did TLS fail on the certificate (untrusted, expired, wrong host) rather than on the
    connection? urllib3 wraps the ``ssl`` error, so the chain and the text are searched."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The socket a streamed ``requests``/urllib3 response is read from, if any.

    A kept-alive connection still holds it; on a connection that closes after the
    response, ``http.client`` has handed it over to the response's file object (urllib3
    response → http.client response → buffered reader → ``SocketIO``)."""
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if sock is None:
        reader = getattr(getattr(response.raw, "_fp", None), "fp", None)
        sock = getattr(getattr(reader, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _close(response: requests.Response) -> None:
    if response.raw is not None:  # in-memory transports have nothing to release
        response.close()


def _declared_length(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Length", "").strip()
    # ASCII only: str.isdigit() also accepts "²", which int() refuses.
    return int(value) if value.isascii() and value.isdigit() else None


def _received(response: requests.Response, decoded: int) -> str:
    """How much arrived when the cap was hit: decoded bytes, and the wire bytes when a
    Content-Encoding inflated them (the sign of a compression bomb)."""
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return f"{decoded} bytes received so far"
    wire = getattr(response.raw, "tell", lambda: None)()
    on_wire = f" from {wire} bytes on the wire" if isinstance(wire, int) else ""
    return f"{decoded} bytes so far after decoding Content-Encoding {encoding}{on_wire}"


def _host_key(parts: SplitResult) -> tuple[str, int] | None:
    """(host, port) with the scheme's default port filled in; None for a malformed URL.
    An upgrade from http://host to https://host keeps the host (the default ports)."""
    try:
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.scheme not in _DEFAULT_PORTS:
        return None
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return parts.hostname.lower(), 0
    return parts.hostname.lower(), port


def _without_query(parts: SplitResult) -> str:
    """A redirect target as shown in errors: a query may carry tokens, so it is left out."""
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _status_reason(method: Method, response: requests.Response, body: bytes) -> str:
    if method == "HEAD":  # no body to quote
        reason = f" ({response.reason})" if response.reason else ""
        return f"HTTP {response.status_code} on HEAD{reason}"
    return f"HTTP {response.status_code} {response.reason or ''}: {_snippet(body)}".strip()


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
