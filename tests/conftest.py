"""Shared pytest fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from http_server import LocalServer

ROOT = Path(__file__).resolve().parents[1]


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
