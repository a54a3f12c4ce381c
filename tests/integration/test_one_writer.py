"""Runs launched like the daemon's (the multiprocess executor, one process per step) take
the same data-directory lock as ``ozg run`` (pipelines/locking.py, pipelines/resources.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pipelines.locking import data_dir_lock

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SNAPSHOT = "2026-11-01"
# The tags a run request for one Land × snapshot partition carries.
PARTITION_TAGS = {
    "dagster/partition": f"06|{SNAPSHOT}",
    "dagster/partition/land": "06",
    "dagster/partition/snapshot": SNAPSHOT,
}
TABLES = ("gebiete", "leistungen", "verfuegbarkeit", "onlinedienste")


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OZG_") and k != "DAGSTER_HOME"}
    home = data_dir / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
    env.update(OZG_DATA_DIR=str(data_dir), DAGSTER_HOME=str(home), **extra)
    return env


# The code location without step retries: a step that gives up on the lock fails at once
# (with retries, pipelines/jobs.py tries it twice more, a minute and two minutes later).
WITHOUT_RETRIES = """
from pipelines.definitions import build_definitions
from sources.config import Settings

defs = build_definitions(Settings.from_env(), step_retries=False)
"""


def _daemon_style_ingest(
    data_dir: Path, *, retries: bool = True, **extra: str
) -> subprocess.Popen[str]:
    """The ingest job of one partition with the job's own executor (multiprocess), as a
    run the daemon launches for the schedule executes it."""
    location = ["-m", "pipelines.definitions"]
    if not retries:
        module = data_dir.parent / "defs_without_retries.py"
        module.write_text(WITHOUT_RETRIES, encoding="utf-8")
        location = ["-f", str(module)]
    return subprocess.Popen(
        [
            str(BIN / "dagster"),
            "job",
            "execute",
            *location,
            "-a",
            "defs",
            "-j",
            "ozg_ingest",
            "--tags",
            json.dumps(PARTITION_TAGS),
        ],
        cwd=ROOT,
        env=_env(data_dir, PYTHONPATH=str(ROOT), **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _ingest_run(data_dir: Path) -> dg.DagsterRun:
    """The daemon-style run (``ozg run`` tags its runs with ``ozg/mode``)."""
    with dg.DagsterInstance.from_config(str(data_dir / "dagster")) as instance:
        (run,) = [
            run
            for run in instance.get_runs(filters=dg.RunsFilter(job_name="ozg_ingest"))
            if "ozg/mode" not in run.tags
        ]
        return run


def test_a_daemon_style_run_waits_for_ozg_run_and_both_leave_one_consistent_partition(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    manual = subprocess.Popen(
        [str(BIN / "ozg"), "run", "--snapshot", SNAPSHOT],
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # ozg run takes the lock right after printing its banner.
    assert manual.stdout is not None and manual.stdout.readline().startswith("ozg run")
    lock_file = data_dir / ".ozg-run.lock"
    deadline = time.monotonic() + 60
    while not lock_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)
    scheduled = _daemon_style_ingest(data_dir, OZG_RUN_LOCK_TIMEOUT="900")

    _, manual_err = manual.communicate(timeout=900)
    manual_ended = time.time()
    scheduled_out, _ = scheduled.communicate(timeout=900)

    assert manual.returncode == 0, manual_err[-3000:]
    assert scheduled.returncode == 0, scheduled_out[-3000:]
    assert "waiting up to" in scheduled_out  # its steps waited for the manual run
    with dg.DagsterInstance.from_config(str(data_dir / "dagster")) as instance:
        run = _ingest_run(data_dir)
        writes = [
            record.timestamp
            for record in instance.get_records_for_run(
                run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
            ).records
        ]
    assert writes and min(writes) >= manual_ended - 5  # nothing written while ozg run ran
    for table in TABLES:
        folder = data_dir / "normalized" / table / "land=06" / f"snapshot={SNAPSHOT}"
        assert pl.read_parquet(folder / "data.parquet").height > 0, table
        assert json.loads((folder / "_fingerprint.json").read_text("utf-8"))["fingerprint"]
    assert not list((data_dir / "normalized" / "_staging").rglob("*.parquet"))


def test_a_daemon_style_run_gives_up_with_a_clear_reason_and_writes_nothing(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    with data_dir_lock(data_dir, timeout=0):  # held as ozg run holds it
        scheduled = _daemon_style_ingest(data_dir, retries=False, OZG_RUN_LOCK_TIMEOUT="1")
        output, _ = scheduled.communicate(timeout=600)
    assert scheduled.returncode != 0, output[-3000:]
    assert _ingest_run(data_dir).status == dg.DagsterRunStatus.FAILURE
    assert f"another ozg run kept {data_dir} locked for 1s; gave up" in output
    assert not (data_dir / "raw").exists()
    assert not (data_dir / "normalized").exists()
