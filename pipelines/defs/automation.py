"""Schedules and sensors for live operation.

* ``ozg_monatlich``: a monthly schedule (2nd of the month, 06:00 Europe/Berlin) that
  materialises the current month's snapshot and the marts in live mode, one run per
  Land in scope (``OZG_LAND``: ``06``, a list or ``all``);
* ``neuer_datenstand``: a cursor-based sensor that probes the Dashboard API and the
  GV100AD edition per Land and requests one run per new upstream state of a Land (the
  run key makes a duplicate request a no-op);
* ``fehlerprotokoll``: a run-failure sensor that writes a failure record under
  ``data/runs/failures/`` and, if ``OZG_ALERT_WEBHOOK`` is set, posts it there.

Runs are queued and executed one at a time (``dagster.yaml``), so a schedule, the
sensor and a manual run never write DuckDB concurrently.
"""

import json
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import requests

from pipelines.partitions import scope_key, scope_partitions
from sources.config import Settings, env
from sources.files import atomic_write_text
from sources.freshness import probe

LIVE_RUN_CONFIG = {"resources": {"ozg": {"config": {"mode": "live"}}}}

# Transient upstream trouble is retried inside the HTTP layer; in scheduled runs a whole
# failed step (e.g. a deadline hit) is retried too and resumes from the landed pages.
# Interactive `ozg run` has no step retries, so a misconfiguration fails fast.
STEP_RETRY = dg.RetryPolicy(
    max_retries=2, delay=60, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)

ozg_pipeline_job = dg.define_asset_job(
    name="ozg_pipeline",
    selection=dg.AssetSelection.all(),
    partitions_def=scope_partitions,
    op_retry_policy=STEP_RETRY,
    description="Raw landing, normalisation, marts and publishing for one Land × snapshot.",
)


def current_snapshot(today: date) -> str:
    return today.replace(day=1).isoformat()


@dg.schedule(
    name="ozg_monatlich",
    cron_schedule="0 6 2 * *",
    execution_timezone="Europe/Berlin",
    job=ozg_pipeline_job,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Monthly live pull of the current snapshot (the Data Hub updates monthly).",
)
def ozg_monatlich(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    tick = context.scheduled_execution_time or datetime.now(UTC)
    snapshot = current_snapshot(tick.date())
    # Runs are queued and executed one at a time, so the Länder never write concurrently.
    return [
        dg.RunRequest(
            run_key=f"monatlich-{land}-{snapshot}",
            partition_key=scope_key(land, snapshot),
            run_config=LIVE_RUN_CONFIG,
            tags={"ozg/mode": "live", "ozg/land": land, "ozg/trigger": "schedule"},
        )
        for land in Settings.from_env(mode="live").lands
    ]


def evaluate_upstream(
    cursor: str | None, settings: Settings, today: date
) -> tuple[list[dg.RunRequest], str]:
    """Plain logic of the sensor: one run request per Land whose upstream state is new.

    The cursor is a JSON object ``{land: state key}``; a plain string (the cursor of the
    single-Land version) counts as the state of the first Land in scope."""
    seen = _read_cursor(cursor, settings.lands[0])
    snapshot = current_snapshot(today)
    requests_ = []
    for land in settings.lands:
        key = probe(settings.for_land(land), today).key()
        if seen.get(land) == key:
            continue
        seen[land] = key
        requests_.append(
            dg.RunRequest(
                run_key=f"upstream-{land}-{snapshot}-{key}",
                partition_key=scope_key(land, snapshot),
                run_config=LIVE_RUN_CONFIG,
                tags={"ozg/mode": "live", "ozg/land": land, "ozg/trigger": "neuer_datenstand"},
            )
        )
    return requests_, json.dumps(seen, sort_keys=True)


def _read_cursor(cursor: str | None, first_land: str) -> dict[str, str]:
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except json.JSONDecodeError:
        return {first_land: cursor}
    return value if isinstance(value, dict) else {first_land: cursor}


@dg.sensor(
    name="neuer_datenstand",
    job=ozg_pipeline_job,
    minimum_interval_seconds=6 * 3600,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Requests a run when the Dashboard Datenstand or the GV100AD edition changes.",
)
def neuer_datenstand(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    settings = Settings.from_env(mode="live")
    requests_, cursor = evaluate_upstream(context.cursor, settings, date.today())
    if not requests_:
        states = "; ".join(f"Land {land}: {key}" for land, key in json.loads(cursor).items())
        return dg.SkipReason(f"no new upstream data ({states})")
    return dg.SensorResult(run_requests=requests_, cursor=cursor)


def write_failure_record(data_dir: Path, record: dict[str, object]) -> Path:
    path = Path(data_dir) / "runs" / "failures" / f"{record['run_id']}.json"
    return atomic_write_text(path, json.dumps(record, ensure_ascii=False, indent=1))


@dg.run_failure_sensor(name="fehlerprotokoll", default_status=dg.DefaultSensorStatus.RUNNING)
def fehlerprotokoll(context: dg.RunFailureSensorContext) -> None:
    settings = Settings.from_env()
    run = context.dagster_run
    record = {
        "run_id": run.run_id,
        "job": run.job_name,
        "tags": dict(run.tags),
        "failed_at": datetime.now(UTC).isoformat(),
        "message": context.failure_event.message,
        "published_untouched": True,  # publishing is the last step and never ran
    }
    path = write_failure_record(settings.data_dir, record)
    context.log.info(f"failure record written to {path}")
    webhook = env("OZG_ALERT_WEBHOOK").strip()
    if webhook:
        requests.post(webhook, json=record, timeout=10)


AUTOMATION = {
    "jobs": [ozg_pipeline_job],
    "schedules": [ozg_monatlich],
    "sensors": [neuer_datenstand, fehlerprotokoll],
}
