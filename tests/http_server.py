"""A scripted HTTP server on 127.0.0.1: the test double at the network boundary.

The real clients talk real HTTP to it (sockets, timeouts, Content-Length and all).
Responses are scripted per path, either as a queue of canned ``Reply`` objects
(consumed in order) or as a callable route that builds a ``Reply`` from the
request; a queued reply wins over the route, and a path with neither answers 404.
Every request is recorded for assertions.

    server.add("/v1/ars", Reply(503), json_reply({"content": []}))
    server.route("/v1/data/000000000000", lambda request: json_reply(...))
    assert server.requests_to("/v1/ars")[1].params == {"page": "0"}

Hostile answers are scripted too: a body that drips in (``drip``), one without a
Content-Length (``declare_length=False``), a redirect (``redirect_reply``), and any
Content-Encoding the test puts in the headers (the body is sent as given). With
``tls=(certificate, key)`` the server speaks HTTPS (``self_signed_certificate``).
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
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
    ``drop`` closes the connection without any response at all;
    ``drip`` sends the body ``drip_bytes`` at a time with that many seconds between
    (a slow-drip body: every socket read gets data well within the read timeout);
    ``declare_length=False`` sends no Content-Length (the body ends when the
    connection closes, as HTTP/1.0 allows).
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    cut_at: int | None = None
    drop: bool = False
    drip: float = 0.0
    drip_bytes: int = 1
    declare_length: bool = True


def json_reply(document: object, status: int = 200, **headers: str) -> Reply:
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    return Reply(status, body, {"Content-Type": "application/json", **_header_names(headers)})


def redirect_reply(location: str, status: int = 302) -> Reply:
    return Reply(status, headers={"Location": location})


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by itself, and its key (PEM files): a TLS server
    that no system trust store knows, and the CA bundle a client may be given for it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.crt", directory / "server.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _header_names(headers: dict[str, str]) -> dict[str, str]:
    """``Retry_After="1"`` -> ``{"Retry-After": "1"}`` (keyword arguments cannot hold '-')."""
    return {name.replace("_", "-"): value for name, value in headers.items()}


@dataclass(frozen=True)
class Recorded:
    path: str
    params: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    at: float  # time.monotonic() when the request arrived
    method: str = "GET"


Route = Callable[[Recorded], Reply]


class LocalServer:
    """``ThreadingHTTPServer`` on an ephemeral port, served from a background thread."""

    def __init__(self, tls: tuple[Path, Path] | None = None) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Reply]] = defaultdict(deque)
        self._routes: dict[str, Route] = {}
        self._stopping = threading.Event()
        self.requests: list[Recorded] = []
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        host, port = self._httpd.server_address[:2]
        self.url = f"{'https' if tls else 'http'}://{host}:{port}"
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
        self._respond(with_body=True)

    def do_HEAD(self) -> None:
        self._respond(with_body=False)

    def _respond(self, *, with_body: bool) -> None:
        parts = urlsplit(self.path)
        request = Recorded(
            path=parts.path,
            params=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
            at=time.monotonic(),
            method=self.command,
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
            length = {"Content-Length": str(len(reply.body))} if reply.declare_length else {}
            for name, value in {**length, **reply.headers}.items():
                self.send_header(name, value)
            self.end_headers()
            if with_body:
                self._send_body(reply)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client gave up (read timeout, deadline, cap) before we finished

    def _send_body(self, reply: Reply) -> None:
        body = reply.body if reply.cut_at is None else reply.body[: reply.cut_at]
        if not reply.drip:
            self.wfile.write(body)
            self.wfile.flush()
            return
        stopping = self.server.owner._stopping
        for start in range(0, len(body), reply.drip_bytes):
            self.wfile.write(body[start : start + reply.drip_bytes])
            self.wfile.flush()
            if stopping.wait(reply.drip):
                return

    def log_message(self, format: str, *args: object) -> None:
        pass
