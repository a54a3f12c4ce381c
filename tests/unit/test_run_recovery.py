"""A run killed with SIGKILL is recovered by the next run (pipelines/run_recovery.py)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.run_recovery import fail_dead_runs, process_alive, run_pid

ROOT = Path(__file__).resolve().parents[2]

# A job whose one step sits in the `duckdb` pool; the step kills its own process with
# SIGKILL while it holds the pool slot, as the OOM killer would during a dbt build.
KILLED_RUN = textwrap.dedent(
    """
    import os, signal, sys
    import dagster as dg

    @dg.asset(pool="duckdb")
    def warehouse_step() -> None:
        if sys.argv[2] == "kill":
            os.kill(os.getpid(), signal.SIGKILL)

    with dg.DagsterInstance.from_config(sys.argv[1]) as instance:
        result = dg.materialize([warehouse_step], instance=instance)
        print("success" if result.success else "failure")
    """
)


def _instance_home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


def _run(home: Path, mode: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(home), mode],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_a_killed_run_is_marked_failed_and_frees_its_pool_slot(tmp_path: Path) -> None:
    home = _instance_home(tmp_path)
    killed = _run(home, "kill", timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    with dg.DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.STARTED  # nothing recorded its end
        slots = instance.event_log_storage.get_concurrency_info("duckdb")
        assert [claim.run_id for claim in slots.claimed_slots] == [run.run_id]
        pid = run_pid(instance, run.run_id)
        assert pid is not None and not process_alive(pid, started_after=time.time())

        recovered = fail_dead_runs(instance)

        assert [(r.run_id, r.pid) for r in recovered] == [(run.run_id, pid)]
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE  # type: ignore[union-attr]
        assert instance.event_log_storage.get_concurrency_info("duckdb").claimed_slots == []
        assert fail_dead_runs(instance) == []  # nothing left to recover

    # The next run gets the slot at once instead of waiting forever.
    started = time.monotonic()
    rerun = _run(home, "finish", timeout=120)
    assert rerun.stdout.strip() == "success", rerun.stderr[-2000:]
    assert time.monotonic() - started < 60


def test_a_live_process_is_alive_and_a_reused_process_id_is_not() -> None:
    """This test's own process stands in for a run still executing. Seen from a run that
    started before the process did (epoch 0), the same id belongs to another process."""
    assert process_alive(os.getpid(), started_after=time.time())
    assert not process_alive(os.getpid(), started_after=0.0)


@pytest.mark.parametrize("pid", [2**22 + 17])
def test_a_process_id_without_process_is_dead(pid: int) -> None:
    assert not process_alive(pid, started_after=time.time())
