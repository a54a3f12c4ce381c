"""HttpClient against a real HTTP server on 127.0.0.1 (``tests/http_server.py``)."""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from itertools import pairwise

import pytest
from http_server import LocalServer, Reply, json_reply

from sources.config import USER_AGENT, HttpSettings
from sources.http import HttpClient, SourceError

FAST = HttpSettings(
    connect_timeout=2.0,
    read_timeout=2.0,
    deadline=10.0,
    max_attempts=3,
    min_interval=0.0,
    backoff_base=0.01,
)
PATH = "/api/thing"
DOCUMENT = {"content": [{"id": 1, "name": "Wiesbaden"}], "total": 1}


class Pauses(list[float]):
    """Injected ``sleep``: records the backoff pauses instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(settings: HttpSettings = FAST, pauses: Pauses | None = None) -> HttpClient:
    return HttpClient(
        "testsource",
        settings,
        sleep=pauses if pauses is not None else Pauses(),
        rng=random.Random(7),
    )


def test_success_with_json(local_server: LocalServer) -> None:
    local_server.add(PATH, json_reply(DOCUMENT, ETag='"v1"', X_Internal="not kept"))
    fetched = client().get(f"{local_server.url}{PATH}", params={"page": 0, "size": "2"})

    assert fetched.status == 200
    assert fetched.json() == DOCUMENT
    assert fetched.body == json.dumps(DOCUMENT).encode()
    assert fetched.url == f"{local_server.url}{PATH}?page=0&size=2"
    assert fetched.params == {"page": "0", "size": "2"}  # every parameter is sent as a string
    assert fetched.attempts == 1
    assert fetched.not_modified is False
    assert fetched.headers["content-type"] == "application/json"
    assert fetched.headers["etag"] == '"v1"'
    assert fetched.headers["content-length"] == str(len(fetched.body))
    assert "x-internal" not in fetched.headers  # only the selected headers are kept
    assert fetched.fetched_at.tzinfo is not None
    (request,) = local_server.requests
    assert request.params == {"page": "0", "size": "2"}


def test_429_honours_retry_after(local_server: LocalServer) -> None:
    local_server.add(
        PATH, json_reply({"error": "slow down"}, status=429, Retry_After="1"), json_reply(DOCUMENT)
    )
    pauses = Pauses()
    fetched = client(pauses=pauses).get(f"{local_server.url}{PATH}")

    assert fetched.json() == DOCUMENT
    assert fetched.attempts == 2
    assert pauses == [1.0]  # exactly the server's Retry-After, not the (tiny) jittered backoff
    assert len(local_server.requests) == 2


def test_503_then_success(local_server: LocalServer) -> None:
    local_server.add(PATH, Reply(503, b"maintenance"), json_reply(DOCUMENT))
    pauses = Pauses()
    fetched = client(pauses=pauses).get(f"{local_server.url}{PATH}")

    assert fetched.json() == DOCUMENT
    assert fetched.attempts == 2
    assert len(pauses) == 1
    assert 0 <= pauses[0] <= FAST.backoff_base  # full jitter below the first ceiling


def test_backoff_grows_exponentially_with_full_jitter(local_server: LocalServer) -> None:
    local_server.route(PATH, lambda _: Reply(502))
    pauses = Pauses()
    settings = replace(FAST, max_attempts=5, backoff_base=1.0, backoff_max=3.0)
    with pytest.raises(SourceError):
        client(settings, pauses).get(f"{local_server.url}{PATH}")

    assert len(pauses) == 4  # between five attempts
    ceilings = [1.0, 2.0, 3.0, 3.0]  # base * 2**(n-1), capped at backoff_max
    assert all(0 <= p <= c for p, c in zip(pauses, ceilings, strict=True))


def test_read_timeout_then_success_on_retry(local_server: LocalServer) -> None:
    local_server.add(PATH, Reply(200, b"{}", {"Content-Type": "application/json"}, delay=2.0))
    local_server.add(PATH, json_reply(DOCUMENT))
    settings = replace(FAST, read_timeout=0.2)
    started = time.monotonic()
    fetched = client(settings).get(f"{local_server.url}{PATH}")

    assert fetched.json() == DOCUMENT
    assert fetched.attempts == 2
    assert time.monotonic() - started < 1.5  # did not wait for the slow answer


def test_connection_dropped_then_success(local_server: LocalServer) -> None:
    local_server.add(PATH, Reply(drop=True), json_reply(DOCUMENT))
    fetched = client().get(f"{local_server.url}{PATH}")

    assert fetched.json() == DOCUMENT
    assert fetched.attempts == 2


def test_retries_exhausted_names_source_url_and_attempts(local_server: LocalServer) -> None:
    local_server.route(PATH, lambda _: Reply(500, b"boom"))
    url = f"{local_server.url}{PATH}"
    with pytest.raises(SourceError) as caught:
        client().get(url, params={"page": "3"})

    error = caught.value
    assert error.source == "testsource"
    assert error.url == f"{url}?page=3"
    assert "gave up after 3 attempt(s)" in error.reason
    assert "HTTP 500" in error.reason
    assert str(error).startswith("testsource: gave up after 3 attempt(s)")
    assert str(error).endswith(f"({url}?page=3)")
    assert len(local_server.requests) == 3


def test_retry_after_beyond_deadline_fails_at_once(local_server: LocalServer) -> None:
    local_server.route(PATH, lambda _: Reply(503, headers={"Retry-After": "5"}))
    pauses = Pauses()
    with pytest.raises(SourceError) as caught:
        client(replace(FAST, deadline=2.0), pauses).get(f"{local_server.url}{PATH}")

    assert "deadline of 2s exceeded after 1 attempt(s)" in caught.value.reason
    assert "HTTP 503" in caught.value.reason
    assert pauses == []  # did not wait 5 s only to give up afterwards
    assert len(local_server.requests) == 1


def test_deadline_bounds_the_total_time(local_server: LocalServer) -> None:
    local_server.route(PATH, lambda _: Reply(200, b"{}", delay=3.0))
    settings = replace(FAST, read_timeout=0.8, deadline=1.0, max_attempts=10)
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        client(settings).get(f"{local_server.url}{PATH}")

    elapsed = time.monotonic() - started
    assert "deadline of 1s exceeded after 2 attempt(s)" in caught.value.reason
    assert "ReadTimeout" in caught.value.reason
    # The second attempt only gets the ~0.2 s left, not another full read timeout.
    assert 0.95 <= elapsed < 1.35
    assert len(local_server.requests) == 2


def test_deadline_passed_during_backoff_reports_attempts_made(local_server: LocalServer) -> None:
    """A backoff that oversleeps the deadline must not count an attempt it never made."""
    local_server.route(PATH, lambda _: Reply(503))
    settings = replace(FAST, deadline=0.3, max_attempts=5)
    http = HttpClient("testsource", settings, sleep=lambda s: time.sleep(s + 0.4))
    with pytest.raises(SourceError) as caught:
        http.get(f"{local_server.url}{PATH}")

    assert len(local_server.requests) == 1
    assert "deadline of 0.3s exceeded after 1 attempt(s)" in caught.value.reason


def test_truncated_transfer_is_an_error(local_server: LocalServer) -> None:
    body = json.dumps(DOCUMENT).encode()
    cut = Reply(200, body, {"Content-Type": "application/json"}, cut_at=10)
    local_server.route(PATH, lambda _: cut)
    with pytest.raises(SourceError) as caught:
        client().get(f"{local_server.url}{PATH}")

    assert "gave up after 3 attempt(s)" in caught.value.reason
    assert "IncompleteRead" in caught.value.reason  # 10 of the declared bytes arrived
    assert len(local_server.requests) == 3  # a cut transfer is worth retrying


def test_truncated_transfer_then_complete_one(local_server: LocalServer) -> None:
    body = json.dumps(DOCUMENT).encode()
    local_server.add(PATH, Reply(200, body, {"Content-Type": "application/json"}, cut_at=10))
    local_server.add(PATH, json_reply(DOCUMENT))
    fetched = client().get(f"{local_server.url}{PATH}")

    assert fetched.body == body
    assert fetched.attempts == 2


def test_cut_json_with_matching_content_length(local_server: LocalServer) -> None:
    local_server.add(
        PATH, Reply(200, b'{"content": [{"id": 1', {"Content-Type": "application/json"})
    )
    with pytest.raises(SourceError) as caught:
        client().get(f"{local_server.url}{PATH}")

    assert caught.value.reason.startswith("truncated or invalid JSON")
    assert len(local_server.requests) == 1  # a broken body is not retried


@pytest.mark.parametrize(
    "page",
    [b"<!DOCTYPE html><html><body>Wartungsarbeiten</body></html>", b"<p>Wartungsarbeiten</p>"],
    ids=["document", "fragment"],
)
def test_html_page_with_status_200(local_server: LocalServer, page: bytes) -> None:
    local_server.add(PATH, Reply(200, page, {"Content-Type": "text/html; charset=utf-8"}))
    with pytest.raises(SourceError) as caught:
        client().get(f"{local_server.url}{PATH}")

    assert "expected json but got an HTML page (status 200)" in caught.value.reason
    assert "Wartungsarbeiten" in caught.value.reason
    assert len(local_server.requests) == 1


def test_html_page_disguised_as_json(local_server: LocalServer) -> None:
    page = b"  <html><body>Login</body></html>"
    local_server.add(PATH, Reply(200, page, {"Content-Type": "application/json"}))
    with pytest.raises(SourceError, match="HTML page"):
        client().get(f"{local_server.url}{PATH}")


def test_wrong_content_type(local_server: LocalServer) -> None:
    local_server.add(PATH, Reply(200, b"<a/>", {"Content-Type": "application/xml"}))
    with pytest.raises(SourceError) as caught:
        client().get(f"{local_server.url}{PATH}", expect="json")

    assert caught.value.reason == "unexpected content type 'application/xml' for json"


def test_invalid_zip(local_server: LocalServer) -> None:
    local_server.add(
        PATH, Reply(200, b"PK\x03\x04 not really", {"Content-Type": "application/zip"})
    )
    with pytest.raises(SourceError, match="truncated or invalid zip archive"):
        client().get(f"{local_server.url}{PATH}", expect="zip")


def test_404_fails_at_once(local_server: LocalServer) -> None:
    local_server.route(PATH, lambda _: json_reply({"error": "no such ARS"}, status=404))
    pauses = Pauses()
    with pytest.raises(SourceError) as caught:
        client(pauses=pauses).get(f"{local_server.url}{PATH}")

    assert caught.value.reason.startswith("HTTP 404 Not Found")
    assert "no such ARS" in caught.value.reason  # the server's explanation is kept
    assert len(local_server.requests) == 1
    assert pauses == []


def test_user_agent_identifies_the_project(local_server: LocalServer) -> None:
    local_server.add(PATH, json_reply(DOCUMENT))
    client().get(f"{local_server.url}{PATH}", headers={"Accept": "application/json"})

    (request,) = local_server.requests
    assert request.headers["user-agent"] == USER_AGENT
    assert request.headers["user-agent"].startswith("ozg-verfuegbarkeit/")
    assert request.headers["accept"] == "application/json"


def test_conditional_request_and_304(local_server: LocalServer) -> None:
    last_modified = "Fri, 31 Oct 2025 08:00:00 GMT"
    local_server.add(PATH, Reply(304, headers={"ETag": '"v1"'}))
    fetched = client().get(
        f"{local_server.url}{PATH}",
        validators={"etag": '"v1"', "last-modified": last_modified},
    )

    (request,) = local_server.requests
    assert request.headers["if-none-match"] == '"v1"'
    assert request.headers["if-modified-since"] == last_modified
    assert fetched.not_modified is True
    assert fetched.status == 304
    assert fetched.body == b""
    assert fetched.headers["etag"] == '"v1"'


def test_no_conditional_headers_without_validators(local_server: LocalServer) -> None:
    local_server.add(PATH, json_reply(DOCUMENT))
    client().get(f"{local_server.url}{PATH}", validators={"etag": "", "last-modified": ""})

    (request,) = local_server.requests
    assert "if-none-match" not in request.headers
    assert "if-modified-since" not in request.headers


def test_politeness_gate_spaces_requests_to_one_host(local_server: LocalServer) -> None:
    local_server.route(PATH, lambda _: json_reply(DOCUMENT))
    settings = replace(FAST, min_interval=0.3)
    first, second = client(settings), client(settings)  # the gate is per host, not per client
    first.get(f"{local_server.url}{PATH}")
    first.get(f"{local_server.url}{PATH}")
    second.get(f"{local_server.url}{PATH}")

    times = [r.at for r in local_server.requests]
    gaps = [b - a for a, b in pairwise(times)]
    assert len(gaps) == 2
    assert all(gap >= 0.3 - 0.02 for gap in gaps), gaps


def test_no_gate_pause_without_min_interval(local_server: LocalServer) -> None:
    local_server.route(PATH, lambda _: json_reply(DOCUMENT))
    http = client()
    started = time.monotonic()
    for _ in range(5):
        http.get(f"{local_server.url}{PATH}")

    assert len(local_server.requests) == 5
    assert time.monotonic() - started < 1.0
