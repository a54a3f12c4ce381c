"""``ozg``: run the code location's jobs through Dagster and print what happened.

    ozg run [--mode sample|live] [--land 06|05,06|all] [--snapshot YYYY-MM-DD]
            [--gv100ad-edition YYYY-MM-DD] [--force-refetch]
    ozg report [--ars ARS ...] [--snapshot YYYY-MM-DD]

Sample mode (the default) runs every sample snapshot offline (any of the 16 Länder); live mode
runs one snapshot (default: the current month) per Land against the configured public
APIs. Each snapshot's nationwide sources (GV100AD, FIM) land first, in one run per
snapshot, then each Land × snapshot partition, then the publish job once. The marts and the
published warehouse cover every Land in the lake. Exits non-zero with a one-line reason on
failure. ``ozg report`` renders the workshop reports from the published marts without
running the pipeline.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import time
import traceback
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from pipelines.progress import (
    DbtLogTee,
    Display,
    LandingHandler,
    NoteHandler,
    Priors,
    RunProgress,
    Ticker,
)
from sources.config import Settings, env, redact
from sources.paging import PROGRESS_LOGGER


@dataclass
class SnapshotOutcome:
    land: str | None  # None: the snapshot's nationwide partition
    snapshot: str
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)


NATIONWIDE_LABEL = "bundesweit"  # in place of the Land in the lines of a nationwide partition


PROJECT_ROOT = Path(__file__).resolve().parents[1]


class RunFailed(RuntimeError):
    pass


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ozg", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="materialise the whole asset graph")
    run.add_argument(
        "--mode", choices=["sample", "live"], default=None, help="default: $OZG_MODE or sample"
    )
    run.add_argument(
        "--land",
        default=None,
        help="two-digit Land code, a comma-separated list or 'all' (default: $OZG_LAND or 06)",
    )
    run.add_argument(
        "--snapshot",
        default=None,
        type=date.fromisoformat,
        help="snapshot date YYYY-MM-DD, first day of a month",
    )
    run.add_argument(
        "--gv100ad-edition",
        default=None,
        type=date.fromisoformat,
        help="Gemeindeverzeichnis edition (Gebietsstand) YYYY-MM-DD to match against "
        "(default: $OZG_GV100AD_EDITION or 31.12. of the year before the snapshot)",
    )
    run.add_argument(
        "--force-refetch",
        action="store_true",
        help="land the raw data again even where a complete snapshot exists",
    )
    report = commands.add_parser(
        "report", help="render the workshop reports from the published marts (no pipeline run)"
    )
    report.add_argument(
        "--ars",
        action="append",
        default=None,
        help="12-digit ARS of a Kommune for a Steckbrief (repeatable; default: the six pilots "
        "plus comparison, index and workbook)",
    )
    report.add_argument(
        "--snapshot",
        default=None,
        type=date.fromisoformat,
        help="published snapshot YYYY-MM-DD (default: the latest)",
    )
    return parser.parse_args(argv)


def _snapshots(settings: Settings, requested: date | None) -> list[date]:
    from sources.sample.generator import SAMPLE_SNAPSHOTS

    if requested is not None:
        if requested.day != 1:
            raise RunFailed(f"snapshot {requested} is not the first day of a month")
        if settings.mode == "sample" and requested not in SAMPLE_SNAPSHOTS:
            first, last = SAMPLE_SNAPSHOTS[0], SAMPLE_SNAPSHOTS[-1]
            raise RunFailed(f"the sample has snapshots {first} … {last} only, not {requested}")
        return [requested]
    if settings.mode == "sample":
        return list(SAMPLE_SNAPSHOTS)
    return [date.today().replace(day=1)]


def _prepare_dagster_home(settings: Settings) -> Path:
    """Persist run history under the data directory unless DAGSTER_HOME is set."""
    home = Path(os.environ.get("DAGSTER_HOME") or settings.data_dir / "dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    instance_config = home / "dagster.yaml"
    if not instance_config.exists():
        shutil.copyfile(PROJECT_ROOT / "dagster.yaml", instance_config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def run_lock(settings: Settings):  # type: ignore[no-untyped-def]
    """One pipeline run per data directory (``pipelines/locking.py``): DuckDB has a single
    writer, and two runs would race on the same partitions. A second run waits (or is
    refused); steps of runs the daemon launches take the same lock."""
    from pipelines.locking import data_dir_lock

    return data_dir_lock(settings.data_dir, timeout=float(env("OZG_RUN_LOCK_TIMEOUT")))


def _failure_reason(result) -> str:  # type: ignore[no-untyped-def]
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            # Dagster wraps the asset's exception; the operator needs the innermost one.
            while error is not None and error.cause is not None:
                error = error.cause
            message = (error.message if error else event.message or "").strip()
            return f"{event.step_key}: {message.splitlines()[0] if message else 'failed'}"
    return "the run failed (see the Dagster run log)"


def pipeline_jobs(definitions):  # type: ignore[no-untyped-def]
    """The ingest jobs in the order they run (nationwide, then Land × snapshot) and the
    publish job, resolved from the code location's definitions."""
    from pipelines.jobs import PUBLISH_JOB, ingest_job_names

    defined = {job.name for job in definitions.jobs or []}
    ingest = [definitions.resolve_job_def(name) for name in ingest_job_names() if name in defined]
    return ingest, definitions.resolve_job_def(PUBLISH_JOB)


@dataclass(frozen=True)
class PlannedRun:
    """One ingest run of ``ozg run``: a job and one partition of it."""

    job: str
    key: str
    land: str | None  # None: a nationwide partition
    snapshot: str

    @property
    def label(self) -> str:
        return f"{self.land or NATIONWIDE_LABEL}|{self.snapshot}"


def plan_runs(lands: Sequence[str], snapshots: Sequence[date]) -> list[PlannedRun]:
    """Every ingest run, in order: each ingest job's partitions for these Länder and
    snapshots (``pipelines/jobs.py``: the nationwide partitions first)."""
    import dagster as dg

    from pipelines.jobs import INGEST_JOBS
    from pipelines.partitions import partition_keys

    runs = []
    for job in INGEST_JOBS:
        for key in partition_keys(job.partitions, lands, snapshots):
            if isinstance(key, dg.MultiPartitionKey):
                dimensions = key.keys_by_dimension
                runs.append(PlannedRun(job.name, key, dimensions["land"], dimensions["snapshot"]))
            else:
                runs.append(PlannedRun(job.name, key, None, key))
    return runs


# Dagster's console logger would print every step failure with its traceback to stderr
# before the CLI's one-line reason; the full event log goes to a file under logs/ instead.
PUBLICATION_UNCHANGED = "unverändert seit der letzten Veröffentlichung"
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def run_pipeline(
    settings: Settings, snapshots: list[date], *, force_refetch: bool = False
) -> list[SnapshotOutcome]:
    """The jobs of the code location's definitions, as the schedule and the UI run them:
    the nationwide ingest job once per snapshot, the Land × snapshot ingest job once per
    Land × snapshot, then the publish job once — with the live progress display
    (``pipelines/progress.py``) on the console meanwhile."""
    runs = plan_runs(settings.lands, snapshots)
    nationwide = sum(run.land is None for run in runs)
    progress = RunProgress(len(runs) - nationwide, nationwide=nationwide)
    with _console(progress) as display:
        try:
            return _run_jobs(settings, runs, progress, display, force_refetch)
        except RunFailed:
            raise
        except Exception as exc:  # not a failed Dagster run: the traceback goes to the log
            log = _write_log(_log_path(settings, "ozg-run"), traceback.format_exc())
            text = str(exc).strip()
            reason = text.splitlines()[0] if text else type(exc).__name__
            raise RunFailed(reason + _log_note(log)) from exc


def _run_jobs(
    settings: Settings,
    runs: list[PlannedRun],
    progress: RunProgress,
    display: Display,
    force_refetch: bool,
) -> list[SnapshotOutcome]:
    import dagster as dg

    from pipelines.warehouse import ensure_manifest

    echo = display.echo
    # The graph must match the dbt project as it is now.
    ensure_manifest(force=True)
    from pipelines.definitions import build_definitions
    from pipelines.run_recovery import fail_dead_runs

    definitions = build_definitions(settings, force_refetch=force_refetch, step_retries=False)
    ingest_jobs, publish = pipeline_jobs(definitions)
    jobs = {job.name: job for job in ingest_jobs}
    outcomes = []
    with dg.DagsterInstance.get() as instance:
        progress.set_priors(_priors(instance, settings.mode))
        # What a killed run left behind is cleared first (runs of live processes stay).
        for dead in fail_dead_runs(instance):
            echo(
                f"  recovered: run {dead.run_id[:8]} ({dead.job_name}) of process "
                f"{dead.pid or '?'} was killed; marked failed, its pool slots freed"
            )
        for planned in runs:
            if planned.job not in jobs:  # a partitioning without assets (not in the code)
                continue
            progress.start_partition(planned.label, nationwide=planned.land is None)
            started = time.monotonic()
            tags = {"ozg/mode": settings.mode}
            if planned.land is not None:
                tags["ozg/land"] = planned.land
            result = _execute(
                jobs[planned.job], instance, progress, partition_key=planned.key, tags=tags
            )
            if not result.success:
                where = (
                    f"Land {planned.land}" if planned.land is not None else "nationwide sources,"
                )
                reason = f"{where} snapshot {planned.snapshot}: {_failure_reason(result)}"
                log = _write_run_log(_log_path(settings, "ozg-run"), instance, result, reason)
                raise RunFailed(reason + _log_note(log))
            progress.finish_partition()
            outcome = SnapshotOutcome(planned.land, planned.snapshot, time.monotonic() - started)
            notices: list[str] = []
            for event in result.get_asset_materialization_events():
                materialization = event.event_specific_data.materialization
                rows = materialization.metadata.get("rows")
                if rows is not None:
                    outcome.rows[materialization.asset_key.to_user_string()] = int(rows.value)
                notices += _partition_notices(materialization.metadata)
            outcomes.append(outcome)
            echo(_format_outcome(outcome))
            for notice in dict.fromkeys(notices):
                echo(f"    Hinweis: {notice}")
        progress.start_publish()
        started = time.monotonic()
        log_path = _log_path(settings, "dbt")
        log_path.parent.mkdir(parents=True, exist_ok=True)
        # dbt's own log (hundreds of lines) goes to a file; the summary stays readable. The
        # tee reads dbt's node counter ("12 of 326 OK …") from it for the progress display.
        with (
            open(log_path, "w", encoding="utf-8") as log,
            redirect_stdout(DbtLogTee(log, progress)),
        ):
            result = _execute(
                publish,
                instance,
                progress,
                tags={"ozg/mode": settings.mode, "ozg/land": ",".join(settings.lands)},
            )
        if not result.success:
            reason = f"dbt marts: {_failure_reason(result)}"
            # The Dagster log of the failed run goes below dbt's: one file to read.
            log = _write_run_log(log_path, instance, result, reason, append=True)
            raise RunFailed(reason + _log_note(log or log_path))
        for event in result.get_asset_materialization_events():
            notice = event.event_specific_data.materialization.metadata.get("empty_reason")
            if notice is not None and notice.value:
                echo(f"  Hinweis: {notice.value}")
        if not result.get_asset_materialization_events():
            # ozg_dbt found the publication inputs unchanged (pipelines/defs/marts.py).
            echo(
                f"  dbt build     {time.monotonic() - started:5.1f}s  {PUBLICATION_UNCHANGED} – "
                "Marts, Doku, Veröffentlichung und Berichte übersprungen"
            )
            return outcomes
        failed_checks = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
        echo(
            f"  dbt build     {time.monotonic() - started:5.1f}s  "
            f"{len(result.get_asset_materialization_events())} models, "
            f"{len(result.get_asset_check_evaluations())} tests"
            + (
                f", {len(failed_checks)} failed (non-blocking): {failed_checks[:3]}"
                if failed_checks
                else ""
            )
        )
        for event in result.get_asset_materialization_events():
            materialization = event.event_specific_data.materialization
            if materialization.asset_key.path == ["analysis", "rollout_survival"]:
                meta = materialization.metadata
                echo(
                    f"  Roll-out-Treiber {meta['laufzeit_s'].value:5.1f}s  "
                    f"{meta['n_paare'].value:,} Paare, Modell {meta['modell'].value}"
                )
                for land, reason in meta["uebersprungen"].value.items():
                    echo(f"    Hinweis: Roll-out-Treiber Land {land} ohne Ergebnis – {reason}")
    return outcomes


# -- Dagster glue of the progress display ------------------------------------------------------
_STEP_ENDS = ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED", "STEP_UP_FOR_RETRY")


def _execute(job, instance, progress: RunProgress, **kwargs):  # type: ignore[no-untyped-def]
    """``execute_in_process`` with the step starts and ends of its event stream fed to the
    progress: the instance calls a listener of the run id for every event it stores,
    synchronously and in process — no polling of the event log, nothing of Dagster's
    console format to parse."""
    run_id = str(uuid.uuid4())  # Dagster's run ids are uuid4 strings too

    def on_event(entry) -> None:  # type: ignore[no-untyped-def]
        try:
            event = entry.dagster_event
            if event is None or not event.step_key:
                return
            if event.event_type_value == "STEP_START":
                progress.start_step(event.step_key)
            elif event.event_type_value in _STEP_ENDS:
                progress.finish_step(event.step_key)
        except Exception:  # the display must never fail a run
            return

    instance.add_event_listener(run_id, on_event)
    return job.execute_in_process(
        instance=instance, raise_on_error=False, run_id=run_id, run_config=QUIET_CONSOLE, **kwargs
    )


def _priors(instance, mode: str) -> Priors:  # type: ignore[no-untyped-def]
    """What the last successful runs of this mode took: the estimate until this run has
    finished a partition of its own, and the publish job step by step."""
    try:
        import dagster as dg

        from pipelines.jobs import INGEST_JOB, NATIONWIDE_JOB, PUBLISH_JOB

        def records(job: str, limit: int):  # type: ignore[no-untyped-def]
            status = [dg.DagsterRunStatus.SUCCESS]
            runs = dg.RunsFilter(job_name=job, statuses=status, tags={"ozg/mode": mode})
            return instance.get_run_records(filters=runs, limit=limit)

        def mean_seconds(job: str) -> float | None:
            seconds = [r.end_time - r.start_time for r in records(job, 5) if r.end_time]
            return sum(seconds) / len(seconds) if seconds else None

        steps: dict[str, float] = {}
        for record in records(PUBLISH_JOB, 1):
            for stats in instance.get_run_step_stats(record.dagster_run.run_id):
                if stats.start_time is not None and stats.end_time is not None:
                    steps[stats.step_key] = stats.end_time - stats.start_time
        return Priors(mean_seconds(INGEST_JOB), steps, nationwide_s=mean_seconds(NATIONWIDE_JOB))
    except Exception:  # only the estimate needs the history, never the run
        return Priors()


@contextmanager
def _console(progress: RunProgress) -> Iterator[Display]:
    """The display on the console while the jobs run, and the loggers of ``sources``
    routed into it: the landing's page records and the one-line HTTP retry warnings.

    The display writes to duplicates of stdout's and stderr's file descriptors, taken
    before any run: Dagster's compute-log capture points descriptors 1 and 2 at its own
    files while a run executes, and a status line must neither land there nor wait for
    Dagster's tail process to copy it to the terminal."""
    sys.stdout.flush()
    sys.stderr.flush()
    out, err = _own_stream(sys.stdout), _own_stream(sys.stderr)
    # A dumb terminal (an editor's shell buffer) cannot erase a line: heartbeats there.
    live = out.isatty() and os.environ.get("TERM", "") != "dumb"
    display = Display(progress, out, live=live, err=err)
    sources_log = logging.getLogger("sources")
    landing_handler, note_handler = LandingHandler(progress), NoteHandler(display)
    saved = (PROGRESS_LOGGER.level, PROGRESS_LOGGER.propagate, sources_log.level)
    PROGRESS_LOGGER.setLevel(logging.DEBUG)
    PROGRESS_LOGGER.propagate = False  # page records are for the display only
    PROGRESS_LOGGER.addHandler(landing_handler)
    if sources_log.getEffectiveLevel() > logging.WARNING:
        sources_log.setLevel(logging.WARNING)
    sources_log.addHandler(note_handler)
    try:
        with Ticker(display):
            yield display
    finally:
        PROGRESS_LOGGER.removeHandler(landing_handler)
        sources_log.removeHandler(note_handler)
        PROGRESS_LOGGER.setLevel(saved[0])
        PROGRESS_LOGGER.propagate = saved[1]
        sources_log.setLevel(saved[2])
        for stream, original in ((out, sys.stdout), (err, sys.stderr)):
            if stream is not original:
                stream.close()


def _own_stream(stream: TextIO) -> TextIO:
    try:
        fd = os.dup(stream.fileno())
    except (AttributeError, OSError, ValueError):  # no descriptor (a test's capture)
        return stream
    return open(  # closed by _console
        fd, "w", encoding=stream.encoding or "utf-8", errors="replace", buffering=1
    )


# -- the full log of a failure --------------------------------------------------------------
def _log_path(settings: Settings, kind: str) -> Path:
    return settings.data_dir / "logs" / f"{kind}-{time.strftime('%Y%m%dT%H%M%S')}.log"


def _log_note(path: Path | None) -> str:
    return f" (Protokoll: {path.resolve()})" if path is not None else ""


def _write_log(path: Path, text: str, *, append: bool = False) -> Path | None:
    """``text`` (without secrets) into ``path``; None if it cannot be written (a full disk
    must still fail with its own reason)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a" if append else "w", encoding="utf-8") as handle:
            handle.write(redact(text).rstrip("\n") + "\n")
    except OSError:
        return None
    return path


def _write_run_log(  # type: ignore[no-untyped-def]
    path: Path, instance, result, reason: str, *, append: bool = False
) -> Path | None:
    """The failed run's whole event log, each error with its traceback and causes."""
    lines = [
        *([""] if append else []),  # apart from dbt's log above it
        f"ozg run: FAILED: {reason}",
        f"Dagster-Lauf {result.run_id} ({result.dagster_run.job_name}), Ereignisprotokoll:",
    ]
    try:
        entries = instance.all_logs(result.run_id)
    except Exception as exc:  # the reason itself is still worth the file
        entries = []
        lines.append(f"(Ereignisprotokoll nicht lesbar: {exc})")
    for entry in entries:
        event = entry.dagster_event
        when = datetime.fromtimestamp(entry.timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S")
        kind = event.event_type_value if event is not None else "LOG"
        level = logging.getLevelName(entry.level)
        lines.append(f"{when} {level:<7} {entry.step_key or '-'} {kind}: {entry.user_message}")
        error = getattr(getattr(event, "event_specific_data", None), "error", None)
        if error is not None and hasattr(error, "to_string"):
            lines += [f"    {line}" for line in error.to_string().splitlines()]
    return _write_log(path, "\n".join(lines), append=append)


def _partition_notices(metadata: dict) -> list[str]:  # type: ignore[type-arg]
    """What an operator must act on although the partition was promoted: ARS the
    Gemeindeverzeichnis edition does not know, and fields beyond the source contracts."""
    notices = []
    unknown_ars = metadata.get("ars_not_in_gebietsstand")
    if unknown_ars is not None and unknown_ars.value:
        listed = ", ".join(
            f"{ars} ({n} {'Eintrag' if n == 1 else 'Einträge'})"
            for ars, n in unknown_ars.value.items()
        )
        notices.append(
            f"ARS nicht im Gemeindeverzeichnis (Gebietsstand): {listed} – in Quarantäne "
            "(ars_not_in_gebietsstand); Abhilfe: neuere Ausgabe wählen (OZG_GV100AD_EDITION)"
        )
    fields = metadata.get("unknown_fields")
    if fields is not None and fields.value:
        listed = ", ".join(f"{f['source']}: {f['field']}" for f in fields.value[:5])
        more = f" und {len(fields.value) - 5} weitere" if len(fields.value) > 5 else ""
        notices.append(
            f"unbekannte Felder (in der Rohablage erhalten, nicht ausgewertet): {listed}{more}"
        )
    return notices


def _format_outcome(outcome: SnapshotOutcome) -> str:
    rows = sorted(outcome.rows.items())
    parts = ", ".join(f"{key.split('/')[-1]} {count:,}" for key, count in rows)
    label = f"{outcome.land or NATIONWIDE_LABEL}|{outcome.snapshot}"
    return f"  {label}  {outcome.seconds:5.1f}s  rows: {parts}"


def _report(args: argparse.Namespace) -> int:
    """``ozg report``: read the published marts, write the reports; no pipeline run."""
    from pipelines.reports import ReportError, build_reports

    try:
        settings = Settings.from_env()
        started = time.monotonic()
        result = build_reports(settings.data_dir, ars=args.ars, snapshot=args.snapshot)
    except ReportError as exc:
        print(f"ozg report: FAILED: {exc}", file=sys.stderr)
        return 1
    print(
        f"ozg report · Stichtag {result.snapshot.isoformat()}"
        + (" · Beispieldaten – synthetisch, keine amtlichen Zahlen" if result.sample else "")
        + f" · {time.monotonic() - started:.1f}s"
    )
    if result.empty_reason:
        print(f"  Hinweis: {result.empty_reason}")
    for path in result.files():
        print(f"  {path.resolve()}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.command == "report":
        return _report(args)
    try:
        overrides: dict[str, object] = {}
        if args.mode:
            overrides["mode"] = args.mode
        if args.land:
            overrides["lands"] = args.land
        if args.gv100ad_edition:
            # Read from the environment by every asset (the Dagster resource re-reads it).
            os.environ["OZG_GV100AD_EDITION"] = args.gv100ad_edition.isoformat()
        settings = Settings.from_env(**overrides)
        snapshots = _snapshots(settings, args.snapshot)
        home = _prepare_dagster_home(settings)
        banner = (
            "SAMPLE – embedded data: GV100AD and PVOG Bund export are real files, Dashboard "
            "and FIM data are synthetic (keine amtlichen Zahlen)"
            if settings.mode == "sample"
            else "LIVE – public APIs"
        )
        print(
            f"ozg run · mode {settings.mode} · Land {','.join(settings.lands)} · "
            f"{len(snapshots)} snapshot(s) · {banner}"
        )
        started = time.monotonic()
        with run_lock(settings):
            run_pipeline(settings, snapshots, force_refetch=args.force_refetch)
    except KeyboardInterrupt:
        print("ozg: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the operator; details are in the Dagster log
        text = redact(str(exc)).strip()  # the console is a log: no secret in it
        reason = text.splitlines()[0] if text else type(exc).__name__
        print(f"ozg: FAILED: {reason}", file=sys.stderr)
        return 1
    data_dir = settings.data_dir.resolve()
    print(f"done in {time.monotonic() - started:.1f}s · mode {settings.mode}")
    print(
        f"  raw landing:    {data_dir / 'raw'}  (one folder per source and snapshot, "
        "Dashboard and PVOG under land=<LL>/, manifest.json in each)"
    )
    print(f"  warehouse:      {data_dir / 'warehouse' / 'ozg.duckdb'}  (schema marts.*)")
    print(f"  normalised:     {data_dir / 'normalized'}  (quarantine: {data_dir / 'quarantine'})")
    print(f"  quality report: {data_dir / 'quality' / 'report.html'}")
    print(f"  metric page:    {data_dir / 'docs' / 'metrikverzeichnis.html'}")
    print(f"  published:      {data_dir / 'published'}  (ozg.duckdb + marts/*.parquet|csv for BI)")
    print(f"  reports:        {data_dir / 'published' / 'reports' / 'index.html'}  (+ Excel)")
    print(f"  Dagster home:   {home}  (run history; `make dev` shows it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
