"""Schedules and sensors for live operation.

* ``ozg_monatlich``: a monthly schedule (2nd of the month, 06:00 Europe/Berlin) that
  requests the ingest job for the current month's snapshot in live mode, one run per
  Land in scope (``OZG_LAND``: ``06``, a list or ``all``);
* ``neuer_datenstand``: a cursor-based sensor that probes the Dashboard API and the
  GV100AD edition per Land and requests one ingest run per new upstream state of a Land
  (the run key makes a duplicate request a no-op);
* ``nach_ingest``: once a batch of ingest runs is over (a schedule tick, a sensor's
  requests or a multi-partition backfill from the UI: nothing queued, running or
  backfilling any more) and it promoted new partitions, requests the publish job once –
  marts, docs, publication and reports are built once per batch, not once per partition;
* ``fehlerprotokoll``: a run-failure sensor that writes a failure record under
  ``data/runs/failures/`` and, if ``OZG_ALERT_WEBHOOK`` is set, posts it there.

Runs are queued and executed one at a time (``dagster.yaml``), so a schedule, the
sensor and a manual run never write DuckDB concurrently.
"""

import json
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import requests
from dagster._core.execution.backfill import BulkActionStatus  # no public export in 1.13

from pipelines.jobs import INGEST_JOB, PUBLISH_JOB
from pipelines.partitions import scope_key
from sources.config import Settings, env, redact, url_origin
from sources.files import atomic_write_text
from sources.freshness import PROBE_BUDGET, probe
from sources.identifiers import validate_file_name

LIVE_RUN_CONFIG = {"resources": {"ozg": {"config": {"mode": "live"}}}}


def current_snapshot(today: date) -> str:
    return today.replace(day=1).isoformat()


@dg.schedule(
    name="ozg_monatlich",
    cron_schedule="0 6 2 * *",
    execution_timezone="Europe/Berlin",
    job_name=INGEST_JOB,
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
    # One budget for the probes of all Länder: the evaluation must end within the sensor
    # timeout however many Länder are in scope and however slowly the upstream answers.
    until = time.monotonic() + PROBE_BUDGET
    for land in settings.lands:
        key = probe(settings.for_land(land), today, until=until).key()
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
    job_name=INGEST_JOB,
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


# A run in one of these states may still write a partition the publish job would read.
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def evaluate_after_ingest(
    instance: dg.DagsterInstance, ingest_keys: Iterable[dg.AssetKey], cursor: str | None
) -> tuple[dg.RunRequest | None, str | None, str]:
    """Plain logic of ``nach_ingest``: (run request or None, new cursor, reason).

    The cursor is the event-log storage id of the newest ingest materialisation already
    published. The request carries the ``ozg`` resource config of the run that wrote the
    newest partition, so a live batch is published in live mode."""
    busy = [
        run
        for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_FLIGHT))
        if run.job_name != PUBLISH_JOB
    ]
    if busy:
        return None, cursor, f"{len(busy)} run(s) still queued or running"
    if instance.get_backfills(status=BulkActionStatus.REQUESTED, limit=1):
        return None, cursor, "a backfill is still running"
    seen = int(cursor) if cursor else 0
    newest: dg.EventLogRecord | None = None
    for key in ingest_keys:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, after_storage_id=seen), limit=1
        ).records
        if records and (newest is None or records[0].storage_id > newest.storage_id):
            newest = records[0]
    if newest is None:
        return None, cursor, "no partition promoted since the last publication"
    run = instance.get_run_by_id(newest.run_id)
    ozg = ((run.run_config if run else {}) or {}).get("resources", {}).get("ozg")
    request = dg.RunRequest(
        run_key=f"nach-ingest-{newest.storage_id}",
        run_config={"resources": {"ozg": ozg}} if ozg else {},
        tags={"ozg/trigger": "nach_ingest", "ozg/after_run": newest.run_id},
    )
    return request, str(newest.storage_id), f"new partitions up to event {newest.storage_id}"


@dg.sensor(
    name="nach_ingest",
    job_name=PUBLISH_JOB,
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Builds marts, docs, publication and reports once after a batch of ingest runs.",
)
def nach_ingest(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    graph = context.repository_def.asset_graph  # type: ignore[union-attr]
    ingest_keys = [key for key in graph.materializable_asset_keys if graph.get(key).partitions_def]
    request, cursor, reason = evaluate_after_ingest(context.instance, ingest_keys, context.cursor)
    if request is None:
        return dg.SkipReason(reason)
    return dg.SensorResult(run_requests=[request], cursor=cursor)


def write_failure_record(data_dir: Path, record: dict[str, object]) -> Path:
    name = validate_file_name(str(record["run_id"]), what="run id")
    path = Path(data_dir) / "runs" / "failures" / f"{name}.json"
    return atomic_write_text(path, json.dumps(record, ensure_ascii=False, indent=1))


def send_alert(webhook: str, record: dict[str, object]) -> tuple[bool, str]:
    """POST ``record`` to the alert webhook: (delivered, what happened). The webhook URL
    is a secret (its path is the token): the words name its host only, and an error of
    ``requests`` (which names the path) is redacted."""
    where = url_origin(webhook)
    try:
        response = requests.post(webhook, json=record, timeout=10)
    except requests.RequestException as exc:
        reason = redact(f"{type(exc).__name__}: {exc}", (webhook,))[:300]
        return False, f"alert webhook {where} failed: {reason}"
    if not response.ok:
        return False, f"alert webhook {where} answered HTTP {response.status_code}"
    return True, f"alert posted to webhook {where}"


@dg.run_failure_sensor(name="fehlerprotokoll", default_status=dg.DefaultSensorStatus.RUNNING)
def fehlerprotokoll(context: dg.RunFailureSensorContext) -> None:
    settings = Settings.from_env()
    run = context.dagster_run
    record = {
        "run_id": run.run_id,
        "job": run.job_name,
        "tags": dict(run.tags),
        "failed_at": datetime.now(UTC).isoformat(),
        "message": redact(context.failure_event.message or ""),
        "published_untouched": True,  # publishing is the last step and never ran
    }
    path = write_failure_record(settings.data_dir, record)
    context.log.info(f"failure record written to {path}")
    webhook = env("OZG_ALERT_WEBHOOK").strip()
    if webhook:
        delivered, outcome = send_alert(webhook, record)
        (context.log.info if delivered else context.log.warning)(outcome)
