"""Shared pytest fixtures and the scheduling of the suite (layout: ``tests/README.md``)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock
from http_server import LocalServer

ROOT = Path(__file__).resolve().parents[1]
# The snapshot of the one-snapshot reference run (one_snapshot_run).
REFERENCE_SNAPSHOT = "2026-11-01"
# The modules reading the session fixture full_sample_run: one xdist worker runs them all, so
# the full run happens once (see pytest_xdist_make_scheduler).
FULL_RUN_MODULES = (
    "tests/integration/test_competence.py",
    "tests/integration/test_marts.py",
    "tests/integration/test_multi_land.py",
    "tests/integration/test_rollout_drivers.py",
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test of full_sample_run must be slow and listed above. Modules with slow tests go
    first (each in its own order), so under xdist the long ones start at once and the fast
    ones fill the gaps."""
    slow_modules: set[str] = set()
    for item in items:
        if item.get_closest_marker("slow") is not None:
            slow_modules.add(item.nodeid.split("::", 1)[0])
        if "full_sample_run" in getattr(item, "fixturenames", ()):
            module = item.nodeid.split("::", 1)[0]
            if item.get_closest_marker("slow") is None or module not in FULL_RUN_MODULES:
                raise pytest.UsageError(
                    f"{item.nodeid} uses full_sample_run: mark its module "
                    "pytestmark = pytest.mark.slow and add it to FULL_RUN_MODULES (conftest.py)"
                )
    items.sort(key=lambda item: item.nodeid.split("::", 1)[0] not in slow_modules)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile``, except that FULL_RUN_MODULES are one unit of work: every module
    stays on one worker (its module fixtures run once) and so does the shared full run.
    (``--dist loadgroup`` with xdist_group marks would say the same, but xdist 3.8.0 ignores
    the marks under pytest 9.2: pytest-dev/pytest-xdist#1386.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class ModuleScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "full_sample_run" if module in FULL_RUN_MODULES else module

    return ModuleScheduling(config, log)


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A scripted HTTP server on 127.0.0.1 (see ``tests/http_server.py``)."""
    with LocalServer() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A real PostgreSQL server: ``OZG_TEST_POSTGRES_DSN``, else a throwaway one of this
    worker's (``tests/postgres_server.py``). Tests own their schemas and drop nothing else."""
    given = os.environ.get("OZG_TEST_POSTGRES_DSN")
    if given:
        yield given
        return
    import postgres_server

    try:
        postgres_server.bin_dir()
    except postgres_server.PostgresUnavailable as missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires the PostgreSQL tests: {missing}")
        pytest.skip(str(missing))
    # Not under pytest's basetemp: that is private to the user, and a root run hands the data
    # directory to the system user ``postgres`` (initdb refuses root).
    base = Path(tempfile.mkdtemp(prefix="ozg-postgres-"))
    try:
        server = postgres_server.start(base)
        yield server.dsn
    finally:
        postgres_server.stop(base)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def full_sample_run(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """One real `ozg run` over the whole sample (12 snapshots, ~3–4 minutes), made once for
    the whole suite and shared by the modules that read its lake and warehouse
    (FULL_RUN_MODULES, which the scheduler keeps on one worker; ``shared_run`` would also
    keep a second worker from making its own). Readers must not write into it."""
    stdout = shared_run(tmp_path_factory, worker_id, "full_run", [])
    assert "dbt build" in stdout
    return shared_run_dir(tmp_path_factory, worker_id, "full_run")


def clean_env(data_dir: Path) -> dict[str, str]:
    """The caller's environment without OZG_* and DAGSTER_HOME (the CLI's defaults apply)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OZG_", "DAGSTER_HOME"))}
    env["OZG_DATA_DIR"] = str(data_dir)
    return env


def shared_run_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str, name: str) -> Path:
    """Where ``shared_run`` keeps the run ``name``: in the temp directory every xdist worker
    of this session shares."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent
    return shared / name / "data"


def shared_run(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str, name: str, args: list[str]
) -> str:
    """``ozg run *args`` into ``shared_run_dir(…, name)`` once per test session, its stdout:
    under xdist the first worker to ask makes it, the other waits on a file lock
    (pytest-xdist's recipe for a session fixture that runs once) instead of making a
    second copy beside it."""
    data = shared_run_dir(tmp_path_factory, worker_id, name)
    target = data.parent
    with FileLock(str(target.parent / f"{name}.lock")):
        done_marker = target / "stdout.txt"
        if not done_marker.exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            done = subprocess.run(
                [sys.executable, "-m", "pipelines.cli", "run", *args],
                cwd=ROOT,
                env=clean_env(data),
                capture_output=True,
                text=True,
                timeout=1200,
                check=False,
            )
            assert done.returncode == 0, done.stderr[-2000:]
            done_marker.write_text(done.stdout, "utf-8")
        return done_marker.read_text("utf-8")


@pytest.fixture(scope="session")
def one_snapshot_run(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The data directory of one clean ``ozg run --snapshot 2026-11-01`` (about 90 s), made
    once for the whole suite (``shared_run``). Read-only: a test that runs or writes
    anything works on ``copy_run(one_snapshot_run, …)``."""
    stdout = shared_run(
        tmp_path_factory, worker_id, "one_snapshot_run", ["--snapshot", REFERENCE_SNAPSHOT]
    )
    assert "reports:" in stdout
    return shared_run_dir(tmp_path_factory, worker_id, "one_snapshot_run")


def copy_run(data_dir: Path, target: Path) -> Path:
    """A private copy of a run's data directory (links kept as links, modification times
    kept, so its partitions and publication inputs are those of the original)."""
    shutil.copytree(data_dir, target, symlinks=True)
    return target


def published_state(data_dir: Path) -> dict[str, str]:
    """sha256 of every file a reader reaches under published/ (reports excluded: they are
    rendered after the flip) and the version ``current`` points at."""
    root = data_dir / "published"
    state = {"current ->": os.readlink(root / "current")}
    for path in [root / "ozg.duckdb", *sorted((root / "marts").iterdir())]:
        state[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state
