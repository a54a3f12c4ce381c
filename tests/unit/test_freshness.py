"""The sensor's upstream probe (``sources/freshness.py``) against 127.0.0.1.

The probe runs inside a Dagster sensor evaluation, which Dagster cancels after 60 s: it
must go through the shared HTTP client (politeness, retries, deadline) and end within its
budget however the upstream behaves.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date
from urllib.parse import urlsplit

import pytest
from http_server import LocalServer, Reply

from pipelines.defs import automation
from sources import freshness
from sources.config import USER_AGENT, HttpSettings, Settings
from sources.dashboard import FIELDS
from sources.destatis import DestatisClient
from sources.freshness import (
    PROBE_BUDGET,
    PROBE_REQUEST_DEADLINE,
    UpstreamState,
    probe,
    probe_http,
)
from sources.http import SourceError
from sources.replay import export_csv

TODAY = date(2026, 11, 15)
DASH = "/api/public/v1/dash"  # host B
SENSOR_TIMEOUT = 60.0  # Dagster's default DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS


def export_path(land: str) -> str:
    return f"{DASH}/open-pvog/{land}0000000000/export"


def edition_path(base: str) -> str:
    return urlsplit(DestatisClient.create(base, HttpSettings()).edition_url(TODAY)).path


def export_reply(land: str) -> Reply:
    record = {field: "" for field in FIELDS}
    record.update(
        leika_key="99911059121000",
        leika_name="Arbeitszeit Ausnahmebewilligung Erteilung",
        ars=f"{land}0000000000",
        ars_name="Hessen",
        ars_federal_state=land,
        online_status="3",
        export_datum="2026-11-01",
        datenstand_pvog_import="2026-10-28",
    )
    body = export_csv([record], delimiter=";", bom=True, line_end="\r\n")
    return Reply(200, body, {"Content-Type": "application/octet-stream"})


def live(server: LocalServer, **overrides: object) -> Settings:
    """Live settings against the local server with the pipeline's default HTTP settings
    (300 s deadline, 60 s read timeout, 5 attempts): the probe must shorten them itself."""
    settings = Settings(
        mode="live",
        dashboard_url=f"{server.url}{DASH}",
        destatis_url=server.url,
        http=HttpSettings(min_interval=0.0, backoff_base=0.01),
    )
    return replace(settings, **overrides)  # type: ignore[arg-type]


def test_probe_goes_through_the_shared_client(local_server: LocalServer) -> None:
    local_server.route(export_path("06"), lambda _: export_reply("06"))
    edition = edition_path(local_server.url)
    local_server.add(edition, Reply(503), Reply(200, headers={"ETag": '"gv-2025"'}))

    state = probe(live(local_server), TODAY)

    assert state == UpstreamState("2026-10-28", 1, '"gv-2025"')
    heads = local_server.requests_to(edition)
    assert [r.method for r in heads] == ["HEAD", "HEAD"]  # the 503 was retried
    assert heads[0].params == {"__blob": "publicationFile"}
    assert all(r.headers["user-agent"] == USER_AGENT for r in local_server.requests)


def test_probe_fails_loudly_on_a_missing_edition(local_server: LocalServer) -> None:
    local_server.route(export_path("06"), lambda _: export_reply("06"))
    with pytest.raises(SourceError, match=r"^destatis_gv100ad: HTTP 404 on HEAD"):
        probe(live(local_server), TODAY)
    assert len(local_server.requests_to(edition_path(local_server.url))) == 1


def test_probe_settings_fit_the_sensor_timeout() -> None:
    until = time.monotonic() + PROBE_BUDGET
    short = probe_http(HttpSettings(), until)  # from the pipeline's defaults

    assert PROBE_BUDGET <= SENSOR_TIMEOUT / 2
    assert short.deadline == PROBE_REQUEST_DEADLINE <= PROBE_BUDGET / 3
    assert short.read_timeout <= short.deadline and short.connect_timeout <= short.deadline
    assert short.max_attempts == 3 and short.backoff_max == 2.0
    assert short.until == until
    # An earlier budget of the caller wins; settings already shorter stay as they are.
    assert probe_http(HttpSettings(until=until - 5, deadline=3.0), until).until == until - 5
    assert probe_http(HttpSettings(deadline=3.0), until).deadline == 3.0


@pytest.mark.parametrize("hanging", ["export", "head"])
def test_probe_against_a_hanging_upstream_ends_within_its_budget(
    local_server: LocalServer, monkeypatch: pytest.MonkeyPatch, hanging: str
) -> None:
    monkeypatch.setattr(freshness, "PROBE_BUDGET", 1.0)  # the real one is 30 s: see below
    edition = edition_path(local_server.url)
    hang = Reply(200, delay=30.0)
    local_server.route(
        export_path("06"), lambda _: hang if hanging == "export" else export_reply("06")
    )
    local_server.route(edition, lambda _: hang if hanging == "head" else Reply(200))
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        probe(live(local_server), TODAY)

    assert time.monotonic() - started < 2.5  # not the 30 s of the hang
    assert "(the caller's overall budget) exceeded" in caught.value.reason


def test_the_sensor_shares_one_budget_over_all_laender(
    local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each Land's HEAD answers after 0.6 s, well within a request's deadline; four Länder
    # one after another would take 2.4 s, beyond the evaluation's budget of 1.2 s.
    monkeypatch.setattr(automation, "PROBE_BUDGET", 1.2)
    lands = ("06", "05", "09", "03")
    for land in lands:
        local_server.route(export_path(land), lambda _, land=land: export_reply(land))
    local_server.route(edition_path(local_server.url), lambda _: Reply(200, delay=0.6))
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"the caller's overall budget"):
        automation.evaluate_upstream(None, live(local_server, lands=lands), TODAY)

    assert time.monotonic() - started < 2.2
    assert len(local_server.requests_to(edition_path(local_server.url))) < len(lands)


@pytest.mark.slow
def test_probe_against_a_hanging_edition_ends_at_the_real_request_deadline(
    local_server: LocalServer,
) -> None:
    local_server.route(export_path("06"), lambda _: export_reply("06"))
    local_server.route(edition_path(local_server.url), lambda _: Reply(200, delay=60.0))
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"deadline of 10s exceeded"):
        probe(live(local_server), TODAY)

    elapsed = time.monotonic() - started
    assert PROBE_REQUEST_DEADLINE <= elapsed < PROBE_REQUEST_DEADLINE + 2, elapsed
