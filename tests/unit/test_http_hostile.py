"""HttpClient against hostile answers from 127.0.0.1 (``tests/http_server.py``).

Each fault is a response a misbehaving or malicious server could send: too large
(declared or streamed), a compression bomb, redirects to other hosts or schemes, an
untrusted certificate, a body that drips in past every deadline. Each must end in a
``SourceError`` that names source, URL and reason, quickly and without retries.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from http_server import LocalServer, Reply, json_reply, redirect_reply, self_signed_certificate

from sources import pvog
from sources.config import HttpSettings
from sources.http import HttpClient, SourceError, gunzip_capped

ROOT = Path(__file__).resolve().parents[2]
CAP = 64 * 1024
FAST = HttpSettings(
    connect_timeout=2.0,
    read_timeout=2.0,
    deadline=10.0,
    max_attempts=3,  # a cap violation must still be tried only once
    min_interval=0.0,
    backoff_base=0.01,
    max_bytes=CAP,
)
PATH = "/api/thing"
JSON = {"Content-Type": "application/json"}


def client(settings: HttpSettings = FAST, session: requests.Session | None = None) -> HttpClient:
    return HttpClient("testsource", settings, session)


def json_body(size: int) -> bytes:
    """A valid JSON document of exactly ``size`` bytes."""
    return b'{"a":"' + b"0" * (size - 8) + b'"}'


@pytest.fixture
def other_server() -> Iterator[LocalServer]:
    """A second server on another port: another host as far as redirects go."""
    with LocalServer() as server:
        yield server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    pytest.importorskip("cryptography")
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[LocalServer]:
    with LocalServer(tls=certificate) as server:
        yield server


def trusting(certificate: tuple[Path, Path]) -> requests.Session:
    """A session that trusts the test certificate (as an operator's CA bundle would)."""
    session = requests.Session()
    session.verify = str(certificate[0])
    return session


# -- size -------------------------------------------------------------------------------------
def test_declared_length_above_the_cap_fails_before_the_body(local_server: LocalServer) -> None:
    # The server claims 10 GB: the client must refuse it from the header, without reading.
    huge = Reply(200, b"{}", {**JSON, "Content-Length": str(10**10)})
    local_server.route(PATH, lambda _: huge)
    url = f"{local_server.url}{PATH}"
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        client().get(url)

    assert time.monotonic() - started < 2.0
    error = caught.value
    assert (error.source, error.url) == ("testsource", url)
    assert error.reason == (
        f"response too large: 10000000000 bytes declared (Content-Length), "
        f"above the cap of {CAP} bytes (OZG_HTTP_MAX_BYTES)"
    )
    assert len(local_server.requests) == 1  # not retried


def test_undeclared_body_beyond_the_cap_fails_while_streaming(local_server: LocalServer) -> None:
    endless = Reply(200, json_body(10 * CAP), JSON, declare_length=False)
    local_server.route(PATH, lambda _: endless)
    with pytest.raises(SourceError) as caught:
        client().get(f"{local_server.url}{PATH}")

    reason = caught.value.reason
    assert re.fullmatch(
        rf"response too large: \d+ bytes received so far, above the cap of {CAP} bytes "
        r"\(OZG_HTTP_MAX_BYTES\)",
        reason,
    ), reason
    assert int(reason.split()[3]) <= CAP + 64 * 1024  # stopped within one chunk of the cap
    assert len(local_server.requests) == 1


@pytest.mark.parametrize("length", ["²", "12abc", "-5"])
def test_a_malformed_content_length_counts_as_none(local_server: LocalServer, length: str) -> None:
    # "²" passes str.isdigit() but not int(): it must not crash the client.
    body = json_body(100)
    local_server.add(PATH, Reply(200, body, {**JSON, "Content-Length": length}))
    assert client().get(f"{local_server.url}{PATH}").body == body


def test_a_body_of_exactly_the_cap_passes(local_server: LocalServer) -> None:
    local_server.add(PATH, Reply(200, json_body(CAP), JSON, declare_length=False))
    fetched = client().get(f"{local_server.url}{PATH}")

    assert len(fetched.body) == CAP
    assert fetched.json() == json.loads(json_body(CAP))


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress)],
    ids=["gzip", "deflate"],
)
def test_compression_bomb_fails_after_decoding(
    local_server: LocalServer, encoding: str, compress: object
) -> None:
    inflated = json_body(16 * 1024 * 1024)  # 16 MiB of JSON …
    bomb = compress(inflated)  # type: ignore[operator]
    assert len(bomb) < CAP  # … in less than the cap on the wire
    local_server.route(PATH, lambda _: Reply(200, bomb, {**JSON, "Content-Encoding": encoding}))
    tracemalloc.start()
    try:
        with pytest.raises(SourceError) as caught:
            client().get(f"{local_server.url}{PATH}")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    reason = caught.value.reason
    assert f"after decoding Content-Encoding {encoding} from " in reason, reason
    assert reason.endswith(f"above the cap of {CAP} bytes (OZG_HTTP_MAX_BYTES)")
    assert peak < 4 * 1024 * 1024  # inflated chunk by chunk, never all 16 MiB
    assert len(local_server.requests) == 1


def test_compressed_body_within_the_cap_is_decoded(local_server: LocalServer) -> None:
    document = {"content": ["Wiesbaden"] * 100}
    body = json.dumps(document).encode()
    local_server.add(PATH, Reply(200, gzip.compress(body), {**JSON, "Content-Encoding": "gzip"}))
    fetched = client().get(f"{local_server.url}{PATH}")

    assert fetched.body == body
    assert fetched.headers["content-encoding"] == "gzip"


def test_zip_bomb_fails_before_inflating(local_server: LocalServer) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("GV100AD_31122025.txt", b"0" * (32 * 1024 * 1024))
    bomb = buffer.getvalue()
    assert len(bomb) < CAP  # the download itself is within the cap
    local_server.route(PATH, lambda _: Reply(200, bomb, {"Content-Type": "application/zip"}))
    with pytest.raises(SourceError) as caught:
        client().get(f"{local_server.url}{PATH}", expect="zip")

    assert caught.value.reason == (
        f"response too large: the zip archive inflates to {32 * 1024 * 1024} bytes, "
        f"above the cap of {CAP} bytes (OZG_HTTP_MAX_BYTES)"
    )
    assert len(local_server.requests) == 1


def test_gunzip_capped_bounds_gzip_read_back_from_disk() -> None:
    data = b"Wiesbaden;064140000000\n" * 1000
    assert gunzip_capped(gzip.compress(data), len(data)) == data
    assert gunzip_capped(gzip.compress(data) + gzip.compress(data), 2 * len(data)) == data * 2
    with pytest.raises(ValueError, match=f"inflates beyond the cap of {len(data) - 1} bytes"):
        gunzip_capped(gzip.compress(data), len(data) - 1)
    bomb = gzip.compress(b"\0" * (32 * 1024 * 1024), compresslevel=1)
    with pytest.raises(ValueError, match="inflates beyond"):
        gunzip_capped(bomb, 1024 * 1024)
    with pytest.raises(EOFError):
        gunzip_capped(gzip.compress(data)[:-20], len(data))


# -- redirects --------------------------------------------------------------------------------
def test_redirect_on_the_same_host_is_followed(local_server: LocalServer) -> None:
    local_server.add(PATH, redirect_reply("/api/moved?page=1", status=301))
    local_server.add("/api/moved", json_reply({"ok": True}))
    fetched = client().get(f"{local_server.url}{PATH}", params={"page": "1"})

    assert fetched.json() == {"ok": True}
    assert fetched.url == f"{local_server.url}{PATH}?page=1"  # the URL asked for
    assert [r.path for r in local_server.requests] == [PATH, "/api/moved"]
    assert local_server.requests[1].params == {"page": "1"}


def test_redirect_to_another_host_is_refused(
    local_server: LocalServer, other_server: LocalServer
) -> None:
    local_server.route(PATH, lambda _: redirect_reply(f"{other_server.url}/elsewhere?token=s3cr3t"))
    url = f"{local_server.url}{PATH}"
    with pytest.raises(SourceError) as caught:
        client().get(url)

    error = caught.value
    assert error.url == url
    assert error.reason.startswith(
        f"redirect to another host refused: {other_server.url}/elsewhere (redirects stay on "
        "the requested host unless OZG_HTTP_REDIRECT_HOSTS lists the other one)"
    )
    assert "s3cr3t" not in str(error)  # the target's query may carry a token
    assert other_server.requests == []
    assert len(local_server.requests) == 1  # not retried


def test_redirect_to_an_allowed_host_keeps_the_callers_headers_home(
    local_server: LocalServer, other_server: LocalServer
) -> None:
    other = other_server.url.removeprefix("http://")
    local_server.add(PATH, redirect_reply(f"{other_server.url}/mirror", status=307))
    other_server.add("/mirror", Reply(200, b"a;b\r\n1;2\r\n", {"Content-Type": "text/csv"}))
    settings = replace(FAST, redirect_hosts=(other,))
    fetched = client(settings).get(
        f"{local_server.url}{PATH}",
        headers={"Accept": "text/csv", pvog.CLIENT_ID_HEADER: "geheime-client-id"},
        expect="csv",
    )

    assert fetched.body == b"a;b\r\n1;2\r\n"
    (first,) = local_server.requests
    (followed,) = other_server.requests
    assert first.headers[pvog.CLIENT_ID_HEADER] == "geheime-client-id"
    assert pvog.CLIENT_ID_HEADER not in followed.headers  # meant for the requested host only
    assert followed.headers["accept"] == "text/csv"


def test_too_many_redirects(local_server: LocalServer) -> None:
    local_server.route(PATH, lambda _: redirect_reply(PATH))
    with pytest.raises(SourceError) as caught:
        client().get(f"{local_server.url}{PATH}")

    assert caught.value.reason == "more than 5 redirects"
    assert len(local_server.requests) == 6


@pytest.mark.parametrize("target", ["ftp://127.0.0.1/x", "file:///etc/passwd"])
def test_redirect_to_another_scheme_is_refused(local_server: LocalServer, target: str) -> None:
    local_server.route(PATH, lambda _: redirect_reply(target))
    with pytest.raises(SourceError, match="redirect to a non-HTTP URL refused"):
        client().get(f"{local_server.url}{PATH}")


def test_redirect_from_https_to_http_is_refused_even_to_an_allowed_host(
    tls_server: LocalServer, local_server: LocalServer, certificate: tuple[Path, Path]
) -> None:
    plain = f"{local_server.url}/plain"
    tls_server.route(PATH, lambda _: redirect_reply(plain))
    settings = replace(FAST, redirect_hosts=(local_server.url.removeprefix("http://"),))
    with pytest.raises(SourceError) as caught:
        client(settings, trusting(certificate)).get(f"{tls_server.url}{PATH}")

    assert caught.value.reason == f"redirect from https to http refused: {plain}"
    assert local_server.requests == []


# -- TLS ----------------------------------------------------------------------------------------
def test_untrusted_certificate_fails_at_once(tls_server: LocalServer) -> None:
    tls_server.route(PATH, lambda _: json_reply({"ok": True}))
    with pytest.raises(SourceError) as caught:
        client().get(f"{tls_server.url}{PATH}")

    assert caught.value.reason.startswith("TLS certificate verification failed: ")
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.reason
    assert tls_server.requests == []  # nothing was sent over the untrusted connection


def test_verification_cannot_be_switched_off_through_the_session(
    tls_server: LocalServer,
) -> None:
    tls_server.route(PATH, lambda _: json_reply({"ok": True}))
    off = requests.Session()
    off.verify = False
    with pytest.raises(ValueError, match="TLS certificate verification must stay on"):
        HttpClient("testsource", FAST, off)

    http = client()
    assert http.session.verify is True
    http.session.verify = False  # switched off after the fact: each request still verifies
    with pytest.raises(SourceError, match="TLS certificate verification failed"):
        http.get(f"{tls_server.url}{PATH}")


def test_a_ca_bundle_keeps_verification_on(
    tls_server: LocalServer, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    tls_server.route(PATH, lambda _: json_reply({"ok": True}))
    assert client(session=trusting(certificate)).get(f"{tls_server.url}{PATH}").json() == {
        "ok": True
    }
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))  # the operator's bundle
    assert client().get(f"{tls_server.url}{PATH}").json() == {"ok": True}


def test_no_code_turns_tls_verification_off() -> None:
    offending = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("sources", "pipelines")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"verify\s*=\s*False|CERT_NONE|check_hostname\s*=\s*False", line)
    ]
    assert offending == []


# -- slow drip ----------------------------------------------------------------------------------
@pytest.mark.parametrize("declare_length", [True, False], ids=["length", "no-length"])
def test_slow_drip_body_is_cut_off_at_the_deadline(
    local_server: LocalServer, declare_length: bool
) -> None:
    # One byte every 50 ms: every socket read gets data well within the read timeout, and
    # the whole body would take 20 s; the deadline of 1 s must end it.
    drip = Reply(200, json_body(400), JSON, drip=0.05, declare_length=declare_length)
    local_server.route(PATH, lambda _: drip)
    settings = replace(FAST, read_timeout=0.5, deadline=1.0)
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        client(settings).get(f"{local_server.url}{PATH}")

    elapsed = time.monotonic() - started
    assert 0.95 <= elapsed < 2.5, elapsed  # not the 20 s of the whole drip
    assert re.fullmatch(
        r"deadline of 1s exceeded while receiving the body: \d+ bytes in 1\.\ds "
        r"\(a stalled or slow-drip transfer\)",
        caught.value.reason,
    ), caught.value.reason
    assert len(local_server.requests) == 1  # the deadline is spent: no second attempt


def test_slow_drip_over_tls_is_cut_off_too(
    tls_server: LocalServer, certificate: tuple[Path, Path]
) -> None:
    tls_server.route(PATH, lambda _: Reply(200, json_body(400), JSON, drip=0.05))
    settings = replace(FAST, read_timeout=0.5, deadline=1.0)
    started = time.monotonic()
    with pytest.raises(SourceError, match="exceeded while receiving the body"):
        client(settings, trusting(certificate)).get(f"{tls_server.url}{PATH}")
    assert time.monotonic() - started < 2.5


def test_a_slow_body_within_the_deadline_arrives_whole(local_server: LocalServer) -> None:
    body = json_body(64)
    local_server.add(PATH, Reply(200, body, JSON, drip=0.01, drip_bytes=8))
    fetched = client(replace(FAST, deadline=3.0)).get(f"{local_server.url}{PATH}")

    assert fetched.body == body


# -- HEAD ------------------------------------------------------------------------------------
def test_head_returns_the_headers_without_a_body(local_server: LocalServer) -> None:
    local_server.add(PATH, Reply(503), Reply(200, b"x" * 10**6, {"ETag": '"v7"'}))
    fetched = client().head(f"{local_server.url}{PATH}", params={"__blob": "publicationFile"})

    assert fetched.body == b""
    assert fetched.headers["etag"] == '"v7"'
    assert fetched.attempts == 2  # retried like a GET
    assert [r.method for r in local_server.requests] == ["HEAD", "HEAD"]
    assert local_server.requests[0].params == {"__blob": "publicationFile"}


def test_head_fails_on_a_missing_resource_without_retrying(local_server: LocalServer) -> None:
    local_server.route(PATH, lambda _: Reply(404))
    with pytest.raises(SourceError) as caught:
        client().head(f"{local_server.url}{PATH}")

    assert caught.value.reason == "HTTP 404 on HEAD (Not Found)"
    assert len(local_server.requests) == 1


def test_head_against_a_hanging_server_ends_at_the_deadline(local_server: LocalServer) -> None:
    local_server.route(PATH, lambda _: Reply(200, delay=5.0))
    settings = replace(FAST, deadline=1.0, max_attempts=5)
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"deadline of 1s exceeded after \d attempt"):
        client(settings).head(f"{local_server.url}{PATH}")
    assert time.monotonic() - started < 2.5  # not the server's 5 s


def test_caller_budget_ends_requests_before_their_own_deadline(local_server: LocalServer) -> None:
    local_server.route(PATH, lambda _: Reply(200, delay=5.0))
    settings = replace(FAST, deadline=30.0, until=time.monotonic() + 0.5)
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        client(settings).get(f"{local_server.url}{PATH}")

    assert time.monotonic() - started < 2.5  # not the request's own 30 s deadline
    assert "(the caller's overall budget) exceeded" in caught.value.reason


# -- secrets --------------------------------------------------------------------------------------
def test_cap_error_of_the_pvog_client_names_no_client_id(local_server: LocalServer) -> None:
    path = "/v5/servicedescriptions/csv"
    local_server.route(path, lambda _: Reply(200, b"x" * (2 * CAP), {"Content-Type": "text/csv"}))
    client_id = "geheime-client-id-4711"
    with pytest.raises(SourceError) as caught:
        pvog.PvogClient.create(local_server.url, FAST, client_id=client_id).fetch_csv(
            "000000000000"
        )

    assert caught.value.reason.startswith("response too large")
    assert client_id not in str(caught.value)
    assert local_server.requests[0].headers[pvog.CLIENT_ID_HEADER] == client_id
