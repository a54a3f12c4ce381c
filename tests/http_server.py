"""A scripted HTTP server on 127.0.0.1: the test double at the network boundary.

The real clients talk real HTTP to it (sockets, timeouts, Content-Length and all).
Responses are scripted per path, either as a queue of canned ``Reply`` objects
(consumed in order) or as a callable route that builds a ``Reply`` from the
request; a queued reply wins over the route, and a path with neither answers 404.
Every request is recorded for assertions.

    server.add("/v1/ars", Reply(503), json_reply({"content": []}))
    server.route("/v1/data/000000000000", lambda request: json_reply(...))
    assert server.requests_to("/v1/ars")[1].params == {"page": "0"}
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from sources.config import HttpSettings

# Client settings for talking to this server: short timeouts, one retry, no pauses.
FAST_HTTP = HttpSettings(
    connect_timeout=2.0,
    read_timeout=5.0,
    deadline=10.0,
    max_attempts=2,
    min_interval=0.0,
    concurrency=1,
    backoff_base=0.01,
)


@dataclass(frozen=True)
class Reply:
    """One canned response.

    ``delay`` pauses before anything is sent (to provoke a read timeout);
    ``cut_at`` sends only that many body bytes after declaring the full
    Content-Length, then closes the connection (a truncated transfer);
    ``drop`` closes the connection without any response at all.
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    cut_at: int | None = None
    drop: bool = False


def json_reply(document: object, status: int = 200, **headers: str) -> Reply:
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    return Reply(status, body, {"Content-Type": "application/json", **_header_names(headers)})


def _header_names(headers: dict[str, str]) -> dict[str, str]:
    """``Retry_After="1"`` -> ``{"Retry-After": "1"}`` (keyword arguments cannot hold '-')."""
    return {name.replace("_", "-"): value for name, value in headers.items()}


@dataclass(frozen=True)
class Recorded:
    path: str
    params: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    at: float  # time.monotonic() when the request arrived


Route = Callable[[Recorded], Reply]


class LocalServer:
    """``ThreadingHTTPServer`` on an ephemeral port, served from a background thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Reply]] = defaultdict(deque)
        self._routes: dict[str, Route] = {}
        self._stopping = threading.Event()
        self.requests: list[Recorded] = []
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        host, port = self._httpd.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    # -- scripting ---------------------------------------------------------------------
    def add(self, path: str, *replies: Reply) -> None:
        """Queue replies for ``path`` (without query string); each is used once."""
        with self._lock:
            self._queues[path].extend(replies)

    def route(self, path: str, handler: Route) -> None:
        """Answer every request to ``path`` that finds the queue empty with ``handler``."""
        with self._lock:
            self._routes[path] = handler

    def requests_to(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # -- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        self._stopping.set()  # wakes handlers still waiting out a delay
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- used by the handler -----------------------------------------------------------
    def _answer(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            queue = self._queues.get(request.path)
            if queue:
                return queue.popleft()
            route = self._routes.get(request.path)
        if route is not None:
            return route(request)
        return json_reply({"error": f"nothing scripted for {request.path}"}, status=404)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LocalServer

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up (timeouts, truncation tests) are expected here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: simple and predictable
    server: _Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        request = Recorded(
            path=parts.path,
            params=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
            at=time.monotonic(),
        )
        owner = self.server.owner
        reply = owner._answer(request)
        if reply.delay and owner._stopping.wait(reply.delay):
            return
        if reply.drop:
            self.close_connection = True
            return
        try:
            self.send_response(reply.status)
            headers = {"Content-Length": str(len(reply.body)), **reply.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body if reply.cut_at is None else reply.body[: reply.cut_at])
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (read timeout) before we answered

    def log_message(self, format: str, *args: object) -> None:
        pass
