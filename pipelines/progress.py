"""Live progress of ``ozg run``: partition i of n, the running step, pages landed of the
expected total, dbt nodes done of the total, the elapsed time and an estimate of what
remains — a status line redrawn in place on a terminal, a heartbeat line about every
10 s of silence otherwise (logs, CI).

Dagster-free display logic; the CLI (``pipelines/cli.py``) feeds it: step starts and ends
from Dagster's event stream, the landing's page records (``sources.paging``, plain
logging), dbt's own node counter from the dbt log. Every clock is injected, so the tests
drive it with fake time.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from statistics import mean
from types import TracebackType
from typing import TextIO

from sources.paging import LandingProgress

HEARTBEAT_S = 10.0  # without a terminal: one line after this much silence
REFRESH_S = 0.5  # on a terminal: the status line is redrawn this often
PREFIX = "  … "
CLEAR_LINE = "\r\x1b[K"  # back to the line start, erase to its end (ANSI, any terminal)

# dbt's own counter, as dagster-dbt echoes dbt's log: "12 of 326 START sql view model
# staging.stg_gebiete ....... [RUN]", then "12 of 326 OK created …" / PASS / WARN / ERROR /
# FAIL / SKIP when the node is done. "of 326" is dbt's count of the nodes it selected.
_DBT_NODE = re.compile(r"^(?:\d\d:\d\d:\d\d\s+)?(\d+) of (\d+) (\S+)(.*)$")
# dbt's closing line: "Done. PASS=303 WARN=0 ERROR=0 SKIP=0 NO-OP=9 TOTAL=312". Its TOTAL is
# what ran; the counter said "of 326" in that build (dbt 1.11, 14 unit tests among the
# nodes), so the count is set to TOTAL of TOTAL when dbt is done.
_DBT_DONE = re.compile(r"^(?:\d\d:\d\d:\d\d\s+)?Done\..*\bTOTAL=(\d+)")


def duration(seconds: float) -> str:
    """``7s``, ``1m05s``, ``2h03m``."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


@dataclass(frozen=True)
class DbtNode:
    index: int
    total: int
    kind: str  # "start", "result" (OK, PASS, ERROR, …) or "done" (dbt's closing line)
    name: str | None = None  # the node's relation or test name (START lines only)


def parse_dbt_line(line: str) -> DbtNode | None:
    """A node START or result line of dbt's log; dbt's ``Done.`` line as a result with
    index = total = TOTAL; None for any other line."""
    done = _DBT_DONE.match(line.strip())
    if done is not None:
        total = int(done.group(1))
        return DbtNode(total, total, "done")
    match = _DBT_NODE.match(line.strip())
    if match is None:
        return None
    index, total, word, rest = match.groups()
    if word != "START":
        return DbtNode(int(index), int(total), "result")
    description = re.sub(r"[\s.]*\[RUN\]\s*$", "", rest).split()
    return DbtNode(int(index), int(total), "start", description[-1] if description else None)


@dataclass(frozen=True)
class Priors:
    """What the last runs took (from the Dagster run history), used until this run has
    measured its own: seconds of one Land × snapshot partition, per step of the publish
    job, and of one nationwide partition."""

    partition_s: float | None = None
    publish_steps: Mapping[str, float] = field(default_factory=dict)
    nationwide_s: float | None = None


@dataclass
class _Landing:
    """Pages of one source in the running partition."""

    planned: int | None = None  # queries the source announced
    groups: dict[str, tuple[int, int | None]] = field(default_factory=dict)

    def landed(self) -> int:
        return sum(pages for pages, _ in self.groups.values())

    def expected(self) -> int | None:
        """Pages of the started queries (their totals where known) plus one for each
        announced query not started yet; None when neither announced nor all known."""
        known = [total for _, total in self.groups.values()]
        if self.planned is None and any(total is None for total in known):
            return None
        started = sum(max(pages, total or pages) for pages, total in self.groups.values())
        return started + max(0, (self.planned or 0) - len(self.groups))


class RunProgress:
    """What ``ozg run`` is doing now and how far it got; thread-safe (events arrive from the
    step thread, the landing's worker threads and the display's ticker)."""

    def __init__(
        self,
        partitions: int,
        *,
        nationwide: int = 0,
        clock: Callable[[], float] = time.monotonic,
        priors: Priors | None = None,
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.partitions = partitions  # Land × snapshot partitions
        self.nationwide = nationwide  # nationwide (snapshot-only) partitions, run first
        self.priors = priors or Priors()
        self.started = clock()
        self.phase = "prepare"  # prepare → ingest → publish
        self.index = 0  # 1-based number of the running partition (of both kinds)
        self.label = ""
        self.running_nationwide = False  # is the running partition a nationwide one?
        self.partition_started = self.started
        self.finished: list[float] = []  # seconds of each finished Land × snapshot partition
        self.finished_nationwide: list[float] = []  # ... and of each nationwide one
        self.step: str | None = None
        self.step_started = self.started
        self.steps_done: set[str] = set()
        self.landing: dict[str, _Landing] = {}
        self.dbt: tuple[int, int] | None = None  # (done, total) in the running step
        self.dbt_node: str | None = None
        self.dbt_started = self.started  # the step's first dbt node (after dbt's startup)

    # -- events -------------------------------------------------------------------------
    def set_priors(self, priors: Priors) -> None:
        with self._lock:
            self.priors = priors

    def start_partition(self, label: str, *, nationwide: bool = False) -> None:
        with self._lock:
            self.phase = "ingest"
            self.index += 1
            self.label = label
            self.running_nationwide = nationwide
            self.partition_started = self._clock()
            self.step = None
            self.steps_done = set()
            self.landing = {}

    def finish_partition(self) -> None:
        with self._lock:
            done = self.finished_nationwide if self.running_nationwide else self.finished
            done.append(self._clock() - self.partition_started)
            self.step = None

    def start_publish(self) -> None:
        with self._lock:
            self.phase = "publish"
            self.step = None
            self.steps_done = set()

    def start_step(self, step: str) -> None:
        with self._lock:
            self.step = step
            self.step_started = self._clock()
            self.dbt = None
            self.dbt_node = None

    def finish_step(self, step: str) -> None:
        with self._lock:
            self.steps_done.add(step)
            if self.step == step:
                self.step = None

    def landed(self, progress: LandingProgress) -> None:
        with self._lock:
            landing = self.landing.setdefault(progress.source, _Landing())
            if progress.group is None:
                landing.planned = progress.queries
            else:
                landing.groups[progress.group] = (progress.pages, progress.total)

    def dbt_line(self, line: str) -> None:
        node = parse_dbt_line(line)
        if node is None:
            return
        with self._lock:
            if self.dbt is None:
                self.dbt_started = self._clock()
            done, _ = self.dbt or (0, node.total)
            if node.kind == "start":
                self.dbt_node = node.name
                self.dbt = (done, node.total)
            elif node.kind == "done":  # dbt exited; dagster-dbt still reads the metadata
                self.dbt = (node.total, node.total)
                self.dbt_node = None
            else:
                self.dbt = (min(done + 1, node.total), node.total)

    # -- reading ------------------------------------------------------------------------
    def remaining(self) -> tuple[float | None, bool]:
        """Seconds still to go, and whether the estimate covers the whole run (False: only
        what is known so far — a lower bound)."""
        with self._lock:
            now = self._clock()
            publish_prior = self.priors.publish_steps
            if self.phase != "publish":
                return self._ingest_remaining(now, publish_prior)
            step_rest: float | None = None
            if self.step is not None:
                prior = publish_prior.get(self.step)
                if prior is not None:
                    step_rest = max(0.0, prior - (now - self.step_started))
                if self.dbt is not None and self.dbt[0] > 0:
                    # dbt's pace so far; early on (views and unit tests are quick, tables
                    # slow) it is weighted less than the last run's duration of the step.
                    done, total = self.dbt
                    pace = (now - self.dbt_started) * (total - done) / done
                    weight = done / total if step_rest is not None else 1.0
                    step_rest = weight * pace + (1 - weight) * (step_rest or 0.0)
            if not publish_prior:
                return step_rest, False
            later = sum(
                seconds
                for step, seconds in publish_prior.items()
                if step not in self.steps_done and step != self.step
            )
            return (step_rest or 0.0) + later, True

    def _ingest_remaining(
        self, now: float, publish_prior: Mapping[str, float]
    ) -> tuple[float | None, bool]:
        """``remaining`` before the publish job (the lock is held): the partitions still to
        run of each kind at this run's mean (the last runs' until one finished), the rest
        of the running one, then the publish job's steps."""
        land_per = mean(self.finished) if self.finished else self.priors.partition_s
        nationwide_per = (
            mean(self.finished_nationwide) if self.finished_nationwide else self.priors.nationwide_s
        )
        done = len(self.finished) + len(self.finished_nationwide)
        running = self.phase == "ingest" and done < self.index
        running_nationwide = running and self.running_nationwide
        running_land = running and not running_nationwide
        land_left = self.partitions - len(self.finished) - (1 if running_land else 0)
        nationwide_left = (
            self.nationwide - len(self.finished_nationwide) - (1 if running_nationwide else 0)
        )
        if land_per is None and (land_left > 0 or running_land):
            return None, False
        # Nationwide partitions are short: without a measure of theirs the estimate is a
        # lower bound, not unknown.
        complete = bool(publish_prior) and (
            nationwide_per is not None or (nationwide_left <= 0 and not running_nationwide)
        )
        total = sum(publish_prior.values())
        if running:
            per = nationwide_per if running_nationwide else land_per
            total += max(0.0, (per or 0.0) - (now - self.partition_started))
        total += (land_per or 0.0) * max(0, land_left)
        total += (nationwide_per or 0.0) * max(0, nationwide_left)
        return total, complete

    def line(self, *, short: bool = False) -> str:
        """The status: ``06|2026-03-01 (4/12) raw__dashboard · Seiten 120/449 · 1m05s
        vergangen, noch ~2m10s``; ``short`` leaves out the name of the dbt node."""
        rest, complete = self.remaining()
        with self._lock:
            now = self._clock()
            if self.phase == "prepare":
                parts = ["Vorbereitung (dbt-Projekt, Definitionen)"]
            elif self.phase == "ingest":
                parts = [f"{self.label} ({self.index}/{self.partitions + self.nationwide})"]
            else:
                parts = ["Marts und Veröffentlichung"]
            if self.step is not None:
                if self.phase == "publish":
                    parts.append(self.step)
                else:
                    parts[0] += f" {self.step}"
                detail = self._detail(short)
                if detail:
                    parts.append(detail)
            elif self.phase != "prepare" and not self.steps_done:
                parts.append("Dagster legt den Lauf an")  # plans every asset and check first
            timing = f"{duration(now - self.started)} vergangen"
            if rest is not None:
                timing += f", noch {'' if complete else 'mindestens '}~{duration(rest)}"
            parts.append(timing)
            return " · ".join(parts)

    def _detail(self, short: bool) -> str:
        if self.dbt is not None:
            done, total = self.dbt
            node = f" ({self.dbt_node})" if self.dbt_node and not short else ""
            return f"dbt {done}/{total}{node}"
        source = self.step.removeprefix("raw__") if self.step else ""
        landing = self.landing.get(source)
        if landing is None or not landing.groups:
            return ""
        expected = landing.expected()
        landed = landing.landed()
        return f"Seiten {landed}/{max(expected, landed)}" if expected else f"Seiten {landed}"


class Display:
    """Writes the run's console: permanent lines (``echo``, ``note``) and the status — on a
    terminal one line redrawn in place (``tick`` every ``REFRESH_S``), otherwise a
    heartbeat line once ``heartbeat_s`` passed without any output."""

    def __init__(
        self,
        progress: RunProgress,
        out: TextIO,
        *,
        live: bool,
        err: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        heartbeat_s: float = HEARTBEAT_S,
        width: Callable[[], int] = lambda: shutil.get_terminal_size().columns,
    ) -> None:
        self.progress = progress
        self.out = out
        self.err = err or out
        self.live = live
        self.heartbeat_s = heartbeat_s
        self._clock = clock
        self._width = width
        self._lock = threading.Lock()
        self._drawn = False
        self._last_output = clock()

    def echo(self, line: str) -> None:
        self._permanent(line, self.out)

    def note(self, line: str) -> None:
        """A line for the error stream (retries, warnings), kept apart from the status."""
        self._permanent(line, self.err)

    def tick(self) -> None:
        with self._lock:
            if self.live:
                self._draw()
            elif self._clock() - self._last_output >= self.heartbeat_s:
                self.out.write(PREFIX + self.progress.line() + "\n")
                self.out.flush()
                self._last_output = self._clock()

    def close(self) -> None:
        with self._lock:
            self._erase()

    def _permanent(self, line: str, stream: TextIO) -> None:
        with self._lock:
            self._erase()
            stream.write(line + "\n")
            stream.flush()
            self._last_output = self._clock()
            if self.live:
                self._draw()

    def _draw(self) -> None:
        limit = max(20, self._width() - 1)  # a wrapped line could not be redrawn in place
        text = PREFIX + self.progress.line()
        if len(text) > limit:  # the node name goes first, the times stay if they can
            text = PREFIX + self.progress.line(short=True)
        if len(text) > limit:
            text = text[: limit - 1] + "…"
        self.out.write(CLEAR_LINE + text)
        self.out.flush()
        self._drawn = True

    def _erase(self) -> None:
        if self._drawn:
            self.out.write(CLEAR_LINE)
            self.out.flush()
            self._drawn = False


class Ticker:
    """Calls ``display.tick`` from a daemon thread while the run works; closes the display
    (erases the status line) when the ``with`` block ends."""

    def __init__(self, display: Display, interval: float | None = None) -> None:
        self.display = display
        self.interval = interval or (REFRESH_S if display.live else 1.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ozg-progress", daemon=True)

    def __enter__(self) -> Ticker:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.display.close()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.display.tick()
            except Exception:  # a closed stream: the run goes on without a display
                return


class DbtLogTee:
    """Stands in for ``sys.stdout`` while the publish job runs: everything goes to the dbt
    log file unchanged, and dbt's node counter lines feed the progress."""

    def __init__(self, log: TextIO, progress: RunProgress) -> None:
        self._log = log
        self._progress = progress
        self._partial = ""

    def write(self, text: str) -> int:
        written = self._log.write(text)
        self._partial += text
        *lines, self._partial = self._partial.split("\n")
        for line in lines:
            self._progress.dbt_line(line)
        return written

    def flush(self) -> None:
        self._log.flush()

    def fileno(self) -> int:  # Dagster's compute-log capture mirrors the file descriptor
        return self._log.fileno()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> object:
        return getattr(self._log, name)


class LandingHandler(logging.Handler):
    """Takes the landing's page records (``sources.paging.PROGRESS_LOGGER``)."""

    def __init__(self, progress: RunProgress) -> None:
        super().__init__(logging.DEBUG)
        self._progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        landing = getattr(record, "landing", None)
        if isinstance(landing, LandingProgress):
            self._progress.landed(landing)


class NoteHandler(logging.Handler):
    """Warnings of ``sources`` (one line per HTTP retry) as lines of the display."""

    def __init__(self, display: Display, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self._display = display

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._display.note(f"  {record.getMessage()}")
        except Exception:  # the console is closed: never fail a request over its log line
            self.handleError(record)
