"""Runs a killed process left behind in the Dagster instance.

A run executed in process (``ozg run``) that is killed with SIGKILL never records its end:
it stays ``STARTED`` and keeps its claim on the ``duckdb`` pool slot, so the next run waits
at its first warehouse step forever. Dagster's run monitoring only watches runs launched by
the daemon. ``fail_dead_runs`` is called by ``ozg run`` under its run lock before any work:
every unfinished run whose process is gone is marked failed and its pool slots are freed.

A run's process is the one named by its first engine event ("Executing steps in process
(pid: …)", or the multiprocess executor's parent). It counts as gone when no process has
that id or the process with that id started after the run did (the id was reused). Only
processes of this machine can be checked: the instance under ``data/dagster`` is local.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

UNFINISHED = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


@dataclass(frozen=True)
class RecoveredRun:
    run_id: str
    job_name: str
    pid: int | None


def fail_dead_runs(instance: dg.DagsterInstance) -> list[RecoveredRun]:
    """Mark every unfinished run of a dead process failed and free its pool slots."""
    recovered = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=UNFINISHED)):
        run = record.dagster_run
        started = record.start_time or record.create_timestamp.timestamp()
        pid = run_pid(instance, run.run_id)
        if pid is not None and process_alive(pid, started_after=started):
            continue
        if pid is None and run.status != dg.DagsterRunStatus.STARTED:
            continue  # launched but not yet executing: its process may still come up
        instance.report_run_failed(
            run,
            message=(
                f"process {pid if pid is not None else '(unknown)'} of this run is gone "
                "(killed?); marked failed by the next ozg run"
            ),
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        recovered.append(RecoveredRun(run.run_id, run.job_name, pid))
    return recovered


def run_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The process id the run's executor recorded first (its engine event metadata)."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=20
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        data = event.event_specific_data if event is not None else None
        metadata = getattr(data, "metadata", None) or {}
        if "pid" in metadata:
            return int(metadata["pid"].value)
    return None


def process_alive(pid: int, *, started_after: float) -> bool:
    """Whether ``pid`` runs and is the process that existed at ``started_after`` (epoch s)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    process_start = _process_start_time(pid)
    # A process younger than the run cannot be the run's process: its id was reused.
    return process_start is None or process_start <= started_after + 1.0


def _process_start_time(pid: int) -> float | None:
    """Start time of ``pid`` in epoch seconds (Linux /proc; None elsewhere)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError):
        return None
    # Field 22 (starttime, clock ticks after boot) counted after the parenthesised name.
    fields = stat.rsplit(")", 1)[1].split()
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
