"""Shared pytest fixtures and the scheduling of the suite (layout: ``tests/README.md``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from http_server import LocalServer

ROOT = Path(__file__).resolve().parents[1]
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
def full_sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real `ozg run` over the whole sample (12 snapshots, ~3–4 minutes), shared by the
    modules that read its lake and warehouse. Readers must not write into it."""
    data = tmp_path_factory.mktemp("full_run")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OZG_", "DAGSTER_HOME"))}
    env["OZG_DATA_DIR"] = str(data)
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "dbt build" in done.stdout
    return data
