"""Stage times of one ``ozg run``, from the Dagster event log of its instance.

Every step of the ingest and publish jobs runs in process, one after the other, so each
step is an interval from its ``STEP_START`` to its ``STEP_SUCCESS``/``STEP_FAILURE`` event.
Step keys map to the stages of the benchmark (``stage_of``). Validation happens inside the
``normalized__*`` steps; the gate stores when it ran and for how long in each validation
document (``data/quality/validations/*.json``, key ``timing``), which carves it out of
normalisation. Time outside every step (interpreter start-up, loading the definitions, the
``dbt parse`` of ``ensure_manifest``, Dagster's run set-up) is ``other``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

LANDING = "landing"
NORMALISATION = "normalisation"
VALIDATION = "validation"
DBT = "dbt build"
PUBLICATION = "publication"
REPORTS = "reports"
OTHER = "other"
STAGES = (LANDING, NORMALISATION, VALIDATION, DBT, PUBLICATION, REPORTS, OTHER)


def stage_of(step_key: str) -> str:
    """The benchmark stage a Dagster step key belongs to (unknown steps: ``other``)."""
    if step_key.startswith("raw__"):
        return LANDING
    if step_key.startswith("normalized__"):
        return NORMALISATION
    if step_key.startswith(("ozg_dbt", "analysis__")):
        return DBT
    if step_key.startswith("docs__") or step_key == "published__warehouse":
        return PUBLICATION
    if step_key == "published__reports":
        return REPORTS
    return OTHER


@dataclass(frozen=True)
class Interval:
    stage: str
    start: float  # epoch seconds
    end: float
    key: str  # step key, or <file> of a validation

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def contains(self, other: Interval) -> bool:
        return self is not other and self.start <= other.start and other.end <= self.end


@dataclass
class RunEvents:
    intervals: list[Interval] = field(default_factory=list)
    # Rows materialised, summed over partitions, by asset key ("raw/dashboard", ...).
    rows: dict[str, int] = field(default_factory=dict)
    failed_steps: list[str] = field(default_factory=list)

    @property
    def unknown_steps(self) -> list[str]:
        return sorted({i.key for i in self.intervals if i.stage == OTHER})


def read_run_events(dagster_home: Path, since: float) -> RunEvents:
    """Step intervals and materialised rows of every run of the instance that started at
    or after ``since`` (epoch seconds)."""
    import dagster as dg

    step_end = {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
    events = RunEvents()
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    try:
        for run in instance.get_runs():
            logs = instance.all_logs(run.run_id)
            if not logs or logs[0].timestamp < since:
                continue
            starts: dict[str, float] = {}
            for entry in logs:
                event = entry.dagster_event
                if event is None:
                    continue
                if event.event_type == dg.DagsterEventType.STEP_START:
                    starts[event.step_key] = entry.timestamp
                elif event.event_type in step_end and event.step_key in starts:
                    key = event.step_key
                    events.intervals.append(
                        Interval(stage_of(key), starts.pop(key), entry.timestamp, key)
                    )
                    if event.event_type == dg.DagsterEventType.STEP_FAILURE:
                        events.failed_steps.append(key)
                elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
                    materialization = event.event_specific_data.materialization
                    rows = materialization.metadata.get("rows")
                    if rows is not None:
                        asset = materialization.asset_key.to_user_string()
                        events.rows[asset] = events.rows.get(asset, 0) + int(rows.value)
    finally:
        instance.dispose()
    return events


def validation_intervals(quality_dir: Path, since: float) -> list[Interval]:
    """When great-expectations ran, from the validation documents the gate wrote at or
    after ``since`` (a no-change rerun rewrites none)."""
    intervals = []
    for path in sorted((quality_dir / "validations").glob("*.json")):
        if path.name.endswith(".gx.json"):
            continue
        timing = json.loads(path.read_text("utf-8")).get("timing")
        if timing and timing["validation_started_at"] >= since:
            start = float(timing["validation_started_at"])
            intervals.append(
                Interval(VALIDATION, start, start + float(timing["validation_s"]), path.stem)
            )
    return intervals


def _innermost(intervals: Sequence[Interval], at: float) -> Interval | None:
    around = [i for i in intervals if i.start <= at <= i.end]
    return min(around, key=lambda i: i.seconds) if around else None


def stage_seconds(intervals: Sequence[Interval], total: float) -> dict[str, float]:
    """Exclusive seconds per stage: an interval's time minus the intervals nested in it
    (validation inside a normalised step); ``other`` is what no interval covers."""
    seconds = dict.fromkeys(STAGES, 0.0)
    covered = 0.0
    for interval in intervals:
        nested = [i for i in intervals if interval.contains(i)]
        seconds[interval.stage] += interval.seconds - sum(i.seconds for i in nested)
        if not any(i.contains(interval) for i in intervals):
            covered += interval.seconds
    seconds[OTHER] += max(total - covered, 0.0)
    return seconds


def stage_peaks(
    samples: Iterable[tuple[float, int]], intervals: Sequence[Interval]
) -> dict[str, int]:
    """Peak RSS (bytes) per stage: each sample goes to the innermost interval running at
    its time, or to ``other``; stages without a sample are absent."""
    peaks: dict[str, int] = {}
    for at, rss in samples:
        interval = _innermost(intervals, at)
        stage = interval.stage if interval else OTHER
        peaks[stage] = max(peaks.get(stage, 0), rss)
    return peaks
