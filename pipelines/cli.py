"""``ozg``: run the code location's jobs through Dagster and print what happened.

    ozg run [--mode sample|live] [--land 06|05,06|all] [--snapshot YYYY-MM-DD]
            [--gv100ad-edition YYYY-MM-DD] [--force-refetch]
    ozg report [--ars ARS ...] [--snapshot YYYY-MM-DD]

Sample mode (the default) runs every sample snapshot offline (Hessen only); live mode
runs one snapshot (default: the current month) per Land against the configured public
APIs. The marts and the published warehouse cover every Land in the lake. Exits
non-zero with a one-line reason on failure. ``ozg report`` renders the workshop reports
from the published marts without running the pipeline.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sources.config import Settings, env, redact


@dataclass
class SnapshotOutcome:
    land: str
    snapshot: str
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)


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
    """The ingest and the publish job, resolved from the code location's definitions."""
    from pipelines.jobs import INGEST_JOB, PUBLISH_JOB

    return definitions.resolve_job_def(INGEST_JOB), definitions.resolve_job_def(PUBLISH_JOB)


QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def run_pipeline(
    settings: Settings, snapshots: list[date], *, force_refetch: bool = False, echo=print
) -> list[SnapshotOutcome]:  # type: ignore[no-untyped-def]
    """The jobs of the code location's definitions, as the schedule and the UI run them:
    the ingest job once per Land × snapshot, then the publish job once."""
    import dagster as dg

    from pipelines.warehouse import ensure_manifest

    # The graph must match the dbt project as it is now.
    ensure_manifest(force=True, data_dir=settings.data_dir)
    from pipelines.definitions import build_definitions
    from pipelines.partitions import scope_key
    from pipelines.run_recovery import fail_dead_runs

    definitions = build_definitions(settings, force_refetch=force_refetch, step_retries=False)
    ingest, publish = pipeline_jobs(definitions)
    outcomes = []
    with dg.DagsterInstance.get() as instance:
        # What a killed run left behind is cleared first (runs of live processes stay).
        for dead in fail_dead_runs(instance):
            echo(
                f"  recovered: run {dead.run_id[:8]} ({dead.job_name}) of process "
                f"{dead.pid or '?'} was killed; marked failed, its pool slots freed"
            )
        for land, snapshot in [
            (land, snapshot) for land in settings.lands for snapshot in snapshots
        ]:
            started = time.monotonic()
            result = ingest.execute_in_process(
                partition_key=scope_key(land, snapshot),
                instance=instance,
                raise_on_error=False,
                tags={"ozg/mode": settings.mode, "ozg/land": land},
                run_config=QUIET_CONSOLE,
            )
            if not result.success:
                raise RunFailed(f"Land {land} snapshot {snapshot}: {_failure_reason(result)}")
            outcome = SnapshotOutcome(land, snapshot.isoformat(), time.monotonic() - started)
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
        started = time.monotonic()
        log_path = settings.data_dir / "logs" / f"dbt-{time.strftime('%Y%m%dT%H%M%S')}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        # dbt's own log (hundreds of lines) goes to a file; the summary stays readable.
        with open(log_path, "w", encoding="utf-8") as log, redirect_stdout(log):
            result = publish.execute_in_process(
                instance=instance,
                raise_on_error=False,
                tags={"ozg/mode": settings.mode, "ozg/land": ",".join(settings.lands)},
                run_config=QUIET_CONSOLE,
            )
        if not result.success:
            raise RunFailed(f"dbt marts: {_failure_reason(result)} (log: {log_path})")
        for event in result.get_asset_materialization_events():
            notice = event.event_specific_data.materialization.metadata.get("empty_reason")
            if notice is not None and notice.value:
                echo(f"  Hinweis: {notice.value}")
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
    return f"  {outcome.land}|{outcome.snapshot}  {outcome.seconds:5.1f}s  rows: {parts}"


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
