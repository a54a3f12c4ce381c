"""The dbt project as Dagster sees it — alone in this module, as dagster-dbt requires
(``prepare-and-package`` imports it before a manifest exists)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
WAREHOUSE_NAME = "ozg.duckdb"  # the DuckDB catalog is the file stem: keep it constant

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def warehouse_path(data_dir: Path) -> Path:
    return Path(data_dir).resolve() / "warehouse" / WAREHOUSE_NAME


def dbt_environment(data_dir: Path) -> dict[str, str]:
    """Variables the dbt project reads (profiles.yml, sources). The marts cover every
    Land in the lake, so no Land is passed."""
    return {
        "OZG_DATA_DIR_ABS": str(Path(data_dir).resolve()),
        "OZG_DUCKDB_PATH": str(warehouse_path(data_dir)),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def dbt_executable() -> str:
    """dbt next to the running interpreter, so an un-activated virtualenv works too."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else (shutil.which("dbt") or "dbt")


def ensure_manifest(*, force: bool = False) -> Path:
    """Parse the project when its manifest is missing (a fresh clone) or when asked.

    (``DbtProject.preparer`` would look for ``dbt`` on PATH only.)"""
    from filelock import FileLock

    DBT_PROJECT_DIR.joinpath("target").mkdir(exist_ok=True)
    # Concurrent processes share target/: parse one at a time.
    with FileLock(str(DBT_PROJECT_DIR / "target" / ".parse.lock")):
        if force or not dbt_project.manifest_path.exists():
            _parse()
    return dbt_project.manifest_path


def _parse() -> None:
    command = [
        dbt_executable(),
        "parse",
        "--quiet",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
    ]
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dbt parse failed: {(done.stdout + done.stderr).strip()[-500:]}")
