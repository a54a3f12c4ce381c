"""The progress display of ``ozg run`` (``pipelines/progress.py``) with a fake clock and
fake events, the landing's page records it reads, and the one-line HTTP retry log."""

from __future__ import annotations

import io
import json
import logging
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from http_server import LocalServer, Reply, json_reply

from pipelines.progress import (
    CLEAR_LINE,
    DbtLogTee,
    Display,
    LandingHandler,
    NoteHandler,
    Priors,
    RunProgress,
    duration,
    parse_dbt_line,
)
from sources.config import HttpSettings
from sources.http import Fetched, HttpClient
from sources.landing import SnapshotLanding
from sources.paging import PROGRESS_LOGGER, LandingProgress, PageInfo, land_paged


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def ingest_progress(clock: Clock, partitions: int, durations: list[float]) -> RunProgress:
    """A run of ``partitions`` whose first partitions took ``durations``."""
    progress = RunProgress(partitions, clock=clock)
    for number, seconds in enumerate(durations, start=1):
        progress.start_partition(f"06|2026-{number:02d}-01")
        clock.advance(seconds)
        progress.finish_partition()
    return progress


def test_durations_read_like_a_stopwatch() -> None:
    assert [duration(s) for s in (0, 7.4, 59.6, 65, 600, 3725)] == [
        "0s",
        "7s",
        "1m00s",
        "1m05s",
        "10m00s",
        "1h02m",
    ]


# -- what the status line says ----------------------------------------------------------------
def test_the_line_names_partition_i_of_n_the_step_and_the_pages(clock: Clock) -> None:
    progress = ingest_progress(clock, 12, [20.0, 20.0, 20.0])
    progress.start_partition("06|2026-03-01")
    progress.start_step("raw__dashboard")
    progress.landed(LandingProgress("dashboard", queries=45))
    for group in range(12):
        progress.landed(LandingProgress("dashboard", f"data/{group}/own", 1, 1))
    clock.advance(5)
    assert progress.line() == (
        "06|2026-03-01 (4/12) raw__dashboard · Seiten 12/45 · 1m05s vergangen, "
        "noch mindestens ~2m55s"  # 15 s of this partition, 8 more of 20 s; publish unknown
    )


def test_pages_count_every_query_with_its_total_from_the_first_page(clock: Clock) -> None:
    progress = RunProgress(1, clock=clock)
    progress.start_partition("06|2026-11-01")
    progress.start_step("raw__fim")
    assert "Seiten" not in progress.line()  # nothing landed yet
    progress.landed(LandingProgress("fim", "leistung-steckbriefe", 1, 4))
    progress.landed(LandingProgress("fim", "leistung-steckbriefe", 2, 4))
    assert " · Seiten 2/4 · " in progress.line()
    # Without any total (and no announced queries) only the count is known.
    progress.start_step("raw__pvog")
    progress.landed(LandingProgress("pvog", "csv/000000000000", 1, None))
    assert " · Seiten 1 · " in progress.line()
    # A new partition starts counting again.
    progress.start_partition("06|2026-12-01")
    progress.start_step("raw__fim")
    assert "Seiten" not in progress.line()


def test_announced_queries_not_started_count_one_page_each(clock: Clock) -> None:
    progress = RunProgress(1, clock=clock)
    progress.start_partition("06|2026-11-01")
    progress.start_step("raw__dashboard")
    progress.landed(LandingProgress("dashboard", queries=10))
    progress.landed(LandingProgress("dashboard", "ars_list", 1, 3))  # paged: 3 pages
    progress.landed(LandingProgress("dashboard", "data/a/own", 1, 1))
    assert " · Seiten 2/12 · " in progress.line()  # 3 + 1 + 8 queries not started


def test_land_paged_reports_each_page_with_the_total_from_the_first_page(
    tmp_path: Path, clock: Clock
) -> None:
    """FIM-like paging: 5 records, 2 per page, no totalPages in the envelope."""
    progress = RunProgress(1, clock=clock)
    landing = SnapshotLanding(tmp_path, "fim", "2026-11-01", mode="live")
    seen: list[str] = []

    def fetch(index: int) -> Fetched:
        body = json.dumps({"offset": index * 2, "items": [1, 2][: 5 - index * 2]}).encode()
        url = f"http://x/p?offset={index * 2}"
        return Fetched("fim", url, {}, 200, {}, body, datetime.now(UTC), 0.0, 1)

    def page_info(body: bytes, url: str) -> PageInfo:
        document = json.loads(body)
        count = len(document["items"])
        progress.start_step("raw__fim")  # the step runs; the line is read per page
        seen.append(progress.line())
        return PageInfo(document["offset"] // 2, count, 5, None, document["offset"] + count >= 5)

    handler = LandingHandler(progress)
    PROGRESS_LOGGER.addHandler(handler)
    PROGRESS_LOGGER.setLevel(logging.DEBUG)
    try:
        progress.start_partition("06|2026-11-01")
        land_paged(
            landing,
            source="fim",
            group="g",
            fetch=fetch,
            page_info=page_info,
            name=lambda p, i: f"page_p{p}_{i}.json",
        )
        progress.start_step("raw__fim")
        seen.append(progress.line())
    finally:
        PROGRESS_LOGGER.removeHandler(handler)
        PROGRESS_LOGGER.setLevel(logging.NOTSET)
    assert [line.split(" · ")[1] if "Seiten" in line else "" for line in seen] == [
        "",
        "Seiten 1/3",
        "Seiten 2/3",
        "Seiten 3/3",
    ]


def test_dbt_lines_are_read_from_dbts_own_counter() -> None:
    start = "12 of 326 START sql view model staging.stg_gebiete ................ [RUN]"
    assert parse_dbt_line(start) == parse_dbt_line(f"20:31:13  {start}")
    node = parse_dbt_line(start)
    assert node is not None and (node.index, node.total, node.kind, node.name) == (
        12,
        326,
        "start",
        "staging.stg_gebiete",
    )
    ok = parse_dbt_line(
        "12 of 326 OK created sql view model staging.stg_gebiete ... [\x1b[32mOK\x1b[0m in 0.12s]"
    )
    assert ok is not None and (ok.index, ok.kind) == (12, "result")
    fail = parse_dbt_line("13 of 326 FAIL 3 not_null_mart_x_ars .... [FAIL 3 in 0.1s]")
    assert fail is not None and fail.kind == "result"
    done = parse_dbt_line("Done. PASS=303 WARN=0 ERROR=0 SKIP=0 NO-OP=9 TOTAL=312")
    assert done is not None and (done.index, done.total, done.kind) == (312, 312, "done")
    for other in ("Running with dbt=1.11.16", "Concurrency: 1 threads (target='main')", ""):
        assert parse_dbt_line(other) is None


def test_the_dbt_log_tee_keeps_the_log_and_counts_nodes(clock: Clock) -> None:
    progress = RunProgress(1, clock=clock)
    progress.start_publish()
    progress.start_step("ozg_dbt")
    log = io.StringIO()
    tee = DbtLogTee(log, progress)
    text = (
        "Running with dbt=1.11.16\n"
        "1 of 4 START sql table model marts.mart_a ..... [RUN]\n"
        "1 of 4 OK created sql table model marts.mart_a ... [OK in 1.0s]\n"
        "2 of 4 START test not_null_mart_a_ars ..... [RUN]\n2 of 4 PA"  # a line cut in two
    )
    tee.write(text)
    tee.write("SS not_null_mart_a_ars ... [PASS in 0.1s]\n")
    assert log.getvalue() == text + "SS not_null_mart_a_ars ... [PASS in 0.1s]\n"
    assert " · dbt 2/4 (not_null_mart_a_ars) · " in progress.line()
    tee.write("Done. PASS=3 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=3\n")
    assert " · dbt 3/3 · " in progress.line()


# -- the estimate ------------------------------------------------------------------------------
def test_the_estimate_is_the_mean_of_the_finished_partitions(clock: Clock) -> None:
    progress = ingest_progress(clock, 6, [10.0, 20.0, 30.0])  # mean 20 s
    progress.start_partition("06|2026-04-01")
    clock.advance(5)
    assert progress.remaining() == (15.0 + 2 * 20.0, False)  # no publish duration known
    progress.set_priors(Priors(publish_steps={"ozg_dbt": 60.0, "published__reports": 20.0}))
    assert progress.remaining() == (15.0 + 2 * 20.0 + 80.0, True)
    assert progress.line().endswith("1m05s vergangen, noch ~2m15s")
    clock.advance(30)  # slower than the mean: the partition is not counted below zero
    assert progress.remaining() == (2 * 20.0 + 80.0, True)


def test_before_a_partition_finished_the_last_runs_duration_is_used(clock: Clock) -> None:
    progress = RunProgress(2, clock=clock)
    assert progress.remaining() == (None, False)
    assert progress.line() == "Vorbereitung (dbt-Projekt, Definitionen) · 0s vergangen"
    progress.set_priors(Priors(partition_s=30.0))
    progress.start_partition("06|2026-11-01")
    clock.advance(10)
    assert progress.remaining() == (20.0 + 30.0, False)
    progress.finish_partition()  # took 10 s: now this run's own mean counts
    assert progress.remaining() == (10.0, False)


def test_nationwide_partitions_count_apart_and_are_estimated_by_their_own_mean(
    clock: Clock,
) -> None:
    """``ozg run`` lands each snapshot's nationwide sources first (seconds), then the Land ×
    snapshot partitions (minutes): one mean for both would be wrong for either."""
    progress = RunProgress(2, nationwide=2, clock=clock)
    progress.set_priors(Priors(partition_s=60.0, publish_steps={"ozg_dbt": 100.0}))
    progress.start_partition("bundesweit|2026-10-01", nationwide=True)
    progress.start_step("raw__fim")
    clock.advance(1)
    # Partition i of n counts both kinds; the nationwide ones have no measure yet: the rest
    # is a lower bound (the two Land partitions at the last runs' 60 s, and the publish job).
    assert progress.line().startswith("bundesweit|2026-10-01 (1/4) raw__fim · ")
    assert progress.remaining() == (2 * 60.0 + 100.0, False)
    progress.finish_partition()  # 1 s
    progress.start_partition("bundesweit|2026-11-01", nationwide=True)
    assert progress.remaining() == (1.0 + 2 * 60.0 + 100.0, True)
    clock.advance(3)
    progress.finish_partition()
    assert (progress.finished_nationwide, progress.finished) == ([1.0, 3.0], [])
    progress.start_partition("06|2026-10-01")
    clock.advance(20)
    assert progress.line().startswith("06|2026-10-01 (3/4) · ")
    assert progress.remaining() == (40.0 + 60.0 + 100.0, True)
    progress.finish_partition()  # 20 s: now the Land partitions' own mean counts
    assert progress.remaining() == (20.0 + 100.0, True)
    # A prior of the nationwide runs stands in until one of this run finished.
    fresh = RunProgress(1, nationwide=1, clock=clock, priors=Priors(60.0, {}, nationwide_s=2.0))
    fresh.start_partition("bundesweit|2026-11-01", nationwide=True)
    assert fresh.remaining() == (2.0 + 60.0, False)


def test_in_the_publish_phase_the_estimate_follows_dbts_node_fraction(clock: Clock) -> None:
    progress = ingest_progress(clock, 1, [20.0])
    progress.start_publish()
    assert progress.remaining() == (None, False)
    assert " · Dagster legt den Lauf an · " in progress.line()
    progress.start_step("ozg_dbt")
    clock.advance(10)  # dbt starts up
    progress.dbt_line("1 of 200 START sql view model staging.stg_a ..... [RUN]")
    clock.advance(20)
    for index in range(1, 51):
        progress.dbt_line(f"{index} of 200 OK created sql view model staging.stg_a ... [OK]")
    # 50 of 200 nodes in 20 s: 150 more take 60 s (dbt's startup is not in the pace).
    assert progress.remaining() == (60.0, False)
    assert progress.line().endswith("noch mindestens ~1m00s")
    # With the last run's step durations: early on the last run weighs more, and the
    # steps still to come are added.
    progress.set_priors(Priors(publish_steps={"ozg_dbt": 50.0, "published__reports": 15.0}))
    rest, complete = progress.remaining()
    assert complete and rest == pytest.approx(0.25 * 60.0 + 0.75 * 20.0 + 15.0)
    progress.finish_step("ozg_dbt")
    progress.start_step("published__reports")
    clock.advance(5)
    assert progress.remaining() == (10.0, True)


# -- the display: a heartbeat without a terminal, a line redrawn on one -----------------------
def test_without_a_terminal_a_heartbeat_line_follows_10_s_of_silence(clock: Clock) -> None:
    progress = ingest_progress(clock, 3, [])
    progress.start_partition("06|2026-11-01")
    out = io.StringIO()
    display = Display(progress, out, live=False, clock=clock)
    written_at = []
    for second in range(1, 36):
        clock.advance(1)
        before = out.getvalue()
        if second == 15:
            display.echo("  06|2026-11-01   15.0s  rows: …")  # output resets the interval
        display.tick()
        if out.getvalue() != before and second != 15:
            written_at.append(second)
    assert written_at == [10, 25, 35]
    lines = out.getvalue().splitlines()
    assert lines[0] == "  … 06|2026-11-01 (1/3) · Dagster legt den Lauf an · 10s vergangen"
    assert lines[1] == "  06|2026-11-01   15.0s  rows: …"
    assert all(line.startswith("  … ") for line in lines[2:])
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()


def test_on_a_terminal_one_line_is_redrawn_in_place(clock: Clock) -> None:
    progress = ingest_progress(clock, 2, [])
    progress.start_partition("06|2026-11-01")
    progress.start_step("normalized__verfuegbarkeit")
    out, err = io.StringIO(), io.StringIO()
    display = Display(progress, out, live=True, err=err, clock=clock, width=lambda: 60)
    display.tick()
    clock.advance(1)
    display.tick()
    first = "  … 06|2026-11-01 (1/2) normalized__verfuegbarkeit · 0s ve…"
    assert out.getvalue() == CLEAR_LINE + first + CLEAR_LINE + first.replace(" 0s", " 1s")
    assert all(len(part) <= 59 for part in out.getvalue().split(CLEAR_LINE))  # no wrap
    # A permanent line: the status line is erased, the line written, the status redrawn.
    out.seek(0)
    out.truncate()
    display.echo("  06|2026-11-01   20.1s  rows: …")
    assert out.getvalue() == (
        CLEAR_LINE + "  06|2026-11-01   20.1s  rows: …\n" + CLEAR_LINE + first.replace(" 0s", " 1s")
    )
    # A retry warning goes to stderr; stdout's status line is erased first and redrawn.
    out.seek(0)
    out.truncate()
    display.note("  HTTP-Wiederholung dashboard: HTTP 503, Pause 1.0s, dann Versuch 2 von 5")
    assert (
        err.getvalue()
        == "  HTTP-Wiederholung dashboard: HTTP 503, Pause 1.0s, dann Versuch 2 von 5\n"
    )
    assert out.getvalue().startswith(CLEAR_LINE) and out.getvalue().count(CLEAR_LINE) == 2
    # At the end the status line is erased: what follows starts on a clean line.
    out.seek(0)
    out.truncate()
    display.close()
    assert out.getvalue() == CLEAR_LINE
    display.close()
    assert out.getvalue() == CLEAR_LINE  # nothing drawn, nothing to erase


# -- one log line per HTTP retry ---------------------------------------------------------------
RETRY_SETTINGS = HttpSettings(
    connect_timeout=2.0,
    read_timeout=2.0,
    deadline=10.0,
    max_attempts=3,
    min_interval=0.0,
    backoff_base=0.01,
)


def test_each_http_retry_is_one_line_with_source_status_and_pause(
    local_server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    path = "/api/retry"
    local_server.add(
        path,
        json_reply({"error": "busy"}, status=503, Retry_After="1"),
        Reply(drop=True),
        json_reply({"ok": True}),
    )
    pauses: list[float] = []
    client = HttpClient("dashboard", RETRY_SETTINGS, sleep=pauses.append, rng=random.Random(3))
    with caplog.at_level(logging.WARNING, logger="sources.http"):
        fetched = client.get(f"{local_server.url}{path}?token=secret-token")
    assert fetched.attempts == 3 and len(pauses) == 2
    messages = [r.getMessage() for r in caplog.records if r.name == "sources.http"]
    assert messages == [
        "HTTP-Wiederholung dashboard: HTTP 503 Service Unavailable, Pause 1.0s, "
        "dann Versuch 2 von 3",
        f"HTTP-Wiederholung dashboard: ConnectionError, Pause {pauses[1]:.1f}s, "
        "dann Versuch 3 von 3",
    ]
    assert all(r.levelno == logging.WARNING for r in caplog.records)
    assert "secret-token" not in caplog.text  # no URL, no query in the line


def test_no_retry_no_line(local_server: LocalServer, caplog: pytest.LogCaptureFixture) -> None:
    local_server.add("/api/ok", json_reply({"ok": True}))
    client = HttpClient("fim", RETRY_SETTINGS, sleep=lambda _: None)
    with caplog.at_level(logging.DEBUG, logger="sources.http"):
        client.get(f"{local_server.url}/api/ok")
    assert [r for r in caplog.records if r.name == "sources.http"] == []


def test_retry_lines_reach_the_console_through_the_display(
    local_server: LocalServer, clock: Clock
) -> None:
    local_server.add("/api/x", Reply(502), json_reply({"ok": True}))
    progress = RunProgress(1, clock=clock)
    out, err = io.StringIO(), io.StringIO()
    display = Display(progress, out, live=False, err=err, clock=clock)
    logger = logging.getLogger("sources")
    handler = NoteHandler(display)
    logger.addHandler(handler)
    try:
        HttpClient("pvog", RETRY_SETTINGS, sleep=lambda _: None, rng=random.Random(1)).get(
            f"{local_server.url}/api/x"
        )
    finally:
        logger.removeHandler(handler)
    (line,) = err.getvalue().splitlines()
    assert line.startswith("  HTTP-Wiederholung pvog: HTTP 502 Bad Gateway, Pause 0.0s")
    assert out.getvalue() == ""


def test_a_line_too_wide_for_the_terminal_drops_the_dbt_node_name_first(clock: Clock) -> None:
    progress = RunProgress(1, clock=clock, priors=Priors(publish_steps={"ozg_dbt": 100.0}))
    progress.start_publish()
    progress.start_step("ozg_dbt")
    progress.dbt_line("7 of 326 START test unique_combination_mart_a_snapshot_date__ars [RUN]")
    out = io.StringIO()
    display = Display(progress, out, live=True, clock=clock, width=lambda: 90)
    display.tick()
    assert out.getvalue() == (
        CLEAR_LINE
        + "  … Marts und Veröffentlichung · ozg_dbt · dbt 0/326 · 0s vergangen, noch ~1m40s"
    )
