"""Schedules and sensors for live operation.

A snapshot is ingested in two steps (``pipelines/jobs.py``): the nationwide run of the
snapshot (GV100AD, FIM) first, then one run per Land. The schedule and the upstream sensor
request the nationwide run and name the Länder to follow in its tag ``ozg/then_lands``;
``nach_bundesweit`` requests the Land runs once it has succeeded, so no Land run starts
before the landings it reads are there, and the Land runs of one snapshot may run side by
side.

* ``ozg_monatlich``: a monthly schedule (2nd of the month, 06:00 Europe/Berlin) that
  requests the nationwide run for the current month's snapshot in live mode, to be
  followed by one run per Land in scope (``OZG_LAND``: ``06``, a list or ``all``);
* ``neuer_datenstand``: a cursor-based sensor that probes the Dashboard API and the
  GV100AD edition per Land and, when the upstream state of some Länder is new, requests the
  nationwide run to be followed by those Länder (the run key makes a duplicate request a
  no-op);
* ``nach_bundesweit``: requests the Land × snapshot runs a successful nationwide run names
  in ``ozg/then_lands`` (in its mode; a nationwide run without the tag, from ``ozg run`` or
  the UI, is followed by nothing);
* ``nach_ingest``: once a batch of ingest runs is over (a schedule tick, a sensor's
  requests or a multi-partition backfill from the UI: nothing queued, running or
  backfilling any more, and no nationwide run waiting for its Land runs) and it promoted
  new partitions, requests the publish job once – marts, docs, publication and reports are
  built once per batch, not once per partition;
* ``fehlerprotokoll``: a run-failure sensor that writes a failure record under
  ``data/runs/failures/`` and, if ``OZG_ALERT_WEBHOOK`` is set, posts it there.

With ``dagster.yaml`` runs are queued and executed one at a time, and every step holds the
data directory's write lock (``pipelines/locking.py``), so a schedule, the sensors and a
manual run never write DuckDB concurrently.
"""

import json
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import requests
from dagster._core.execution.backfill import BulkActionStatus  # no public export in 1.13

from pipelines.jobs import INGEST_JOB, NATIONWIDE_JOB, PUBLISH_JOB
from pipelines.partitions import scope_key
from sources.config import Settings, env, redact, url_origin
from sources.files import atomic_write_text
from sources.freshness import PROBE_BUDGET, probe
from sources.identifiers import validate_file_name

LIVE_RUN_CONFIG = {"resources": {"ozg": {"config": {"mode": "live"}}}}
# On a nationwide run: the Länder whose runs follow it (comma-separated), for nach_bundesweit.
THEN_LANDS = "ozg/then_lands"
# On a run requested by a sensor after another run: that run's id.
AFTER_RUN = "ozg/after_run"


def current_snapshot(today: date) -> str:
    return today.replace(day=1).isoformat()


@dg.schedule(
    name="ozg_monatlich",
    cron_schedule="0 6 2 * *",
    execution_timezone="Europe/Berlin",
    job_name=NATIONWIDE_JOB,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description=(
        "Monthly live pull of the current snapshot (the Data Hub updates monthly): the "
        "nationwide run, then (nach_bundesweit) one run per Land in scope."
    ),
)
def ozg_monatlich(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    tick = context.scheduled_execution_time or datetime.now(UTC)
    snapshot = current_snapshot(tick.date())
    lands = Settings.from_env(mode="live").lands
    return [
        dg.RunRequest(
            run_key=f"monatlich-{snapshot}",
            partition_key=snapshot,
            run_config=LIVE_RUN_CONFIG,
            tags={"ozg/mode": "live", THEN_LANDS: ",".join(lands), "ozg/trigger": "schedule"},
        )
    ]


def evaluate_upstream(
    cursor: str | None, settings: Settings, today: date
) -> tuple[list[dg.RunRequest], str]:
    """Plain logic of the sensor: one request of the snapshot's nationwide run, naming the
    Länder whose upstream state is new (``ozg/then_lands``), or none.

    The cursor is a JSON object ``{land: state key}``; a plain string (the cursor of the
    single-Land version) counts as the state of the first Land in scope."""
    seen = _read_cursor(cursor, settings.lands[0])
    snapshot = current_snapshot(today)
    new: dict[str, str] = {}
    # One budget for the probes of all Länder: the evaluation must end within the sensor
    # timeout however many Länder are in scope and however slowly the upstream answers.
    until = time.monotonic() + PROBE_BUDGET
    for land in settings.lands:
        key = probe(settings.for_land(land), today, until=until).key()
        if seen.get(land) != key:
            new[land] = seen[land] = key
    if not new:
        return [], json.dumps(seen, sort_keys=True)
    request = dg.RunRequest(
        run_key=f"upstream-{snapshot}-" + "+".join(f"{land}:{key}" for land, key in new.items()),
        partition_key=snapshot,
        run_config=LIVE_RUN_CONFIG,
        tags={"ozg/mode": "live", THEN_LANDS: ",".join(new), "ozg/trigger": "neuer_datenstand"},
    )
    return [request], json.dumps(seen, sort_keys=True)


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
    job_name=NATIONWIDE_JOB,
    minimum_interval_seconds=6 * 3600,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Requests the nationwide run, then (nach_bundesweit) the Land runs, when the "
        "Dashboard Datenstand or the GV100AD edition of a Land changes."
    ),
)
def neuer_datenstand(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    settings = Settings.from_env(mode="live")
    requests_, cursor = evaluate_upstream(context.cursor, settings, date.today())
    if not requests_:
        states = "; ".join(f"Land {land}: {key}" for land, key in json.loads(cursor).items())
        return dg.SkipReason(f"no new upstream data ({states})")
    return dg.SensorResult(run_requests=requests_, cursor=cursor)


def evaluate_after_nationwide(
    instance: dg.DagsterInstance, cursor: str | None
) -> tuple[list[dg.RunRequest], str | None, str]:
    """Plain logic of ``nach_bundesweit``: (run requests, new cursor, reason).

    For every nationwide run that succeeded since the cursor (the event-log storage id of
    the last run-success event looked at) and names Länder in ``ozg/then_lands``: one
    request per Land for the Land × snapshot partition of its snapshot, with the run's
    ``ozg`` resource config and trigger."""
    after = int(cursor) if cursor else None
    records = instance.fetch_run_status_changes(
        dg.RunStatusChangeRecordsFilter(dg.DagsterEventType.RUN_SUCCESS, after_storage_id=after),
        limit=100,
        ascending=True,
    ).records
    requests_: list[dg.RunRequest] = []
    for record in records:
        cursor = str(record.storage_id)
        # job_names of the filter is not applied by every event-log storage (SQLite).
        if record.event_log_entry.job_name != NATIONWIDE_JOB:
            continue
        run = instance.get_run_by_id(record.run_id)
        lands = [land for land in (run.tags.get(THEN_LANDS, "") if run else "").split(",") if land]
        snapshot = run.tags.get("dagster/partition") if run else None
        if run is None or not lands or not snapshot:
            continue
        ozg = (run.run_config or {}).get("resources", {}).get("ozg")
        for land in lands:
            tags = {"ozg/land": land, AFTER_RUN: run.run_id}
            for name in ("ozg/mode", "ozg/trigger"):
                if name in run.tags:
                    tags[name] = run.tags[name]
            requests_.append(
                dg.RunRequest(
                    run_key=f"nach-bundesweit-{run.run_id}-{land}",
                    partition_key=scope_key(land, snapshot),
                    run_config={"resources": {"ozg": ozg}} if ozg else {},
                    tags=tags,
                )
            )
    reason = (
        f"{len(requests_)} Land run(s) requested" if requests_ else "no nationwide run to follow"
    )
    return requests_, cursor, reason


@dg.sensor(
    name="nach_bundesweit",
    job_name=INGEST_JOB,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Requests the Land × snapshot runs a successful nationwide run of the schedule or "
        "of neuer_datenstand names (ozg/then_lands)."
    ),
)
def nach_bundesweit(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    requests_, cursor, reason = evaluate_after_nationwide(context.instance, context.cursor)
    if not requests_:
        if cursor != context.cursor:
            return dg.SensorResult(skip_reason=reason, cursor=cursor)
        return dg.SkipReason(reason)
    return dg.SensorResult(run_requests=requests_, cursor=cursor)


# How long a nationwide run that names Länder holds the publication back while its Land runs
# are not requested yet (nach_bundesweit looks every 30 s; a stopped sensor must not hold
# the publication back for ever).
FOLLOW_UP_GRACE_S = 600.0


def awaiting_land_runs(instance: dg.DagsterInstance, now: float | None = None) -> list[str]:
    """Ids of the nationwide runs that succeeded within ``FOLLOW_UP_GRACE_S``, name Länder
    to follow (``ozg/then_lands``) and have no run requested after them yet."""
    now = time.time() if now is None else now
    records = instance.get_run_records(
        filters=dg.RunsFilter(job_name=NATIONWIDE_JOB, statuses=[dg.DagsterRunStatus.SUCCESS]),
        limit=20,
    )
    waiting = []
    for record in records:
        run = record.dagster_run
        ended = record.end_time or 0.0
        if not run.tags.get(THEN_LANDS) or now - ended > FOLLOW_UP_GRACE_S:
            continue
        followers = dg.RunsFilter(job_name=INGEST_JOB, tags={AFTER_RUN: run.run_id})
        if not instance.get_runs_count(filters=followers):
            waiting.append(run.run_id)
    return waiting


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
    waiting = awaiting_land_runs(instance)
    if waiting:
        return None, cursor, f"{len(waiting)} nationwide run(s) still to be followed by Land runs"
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
        tags={"ozg/trigger": "nach_ingest", AFTER_RUN: newest.run_id},
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
