"""Runs killed with SIGKILL at the points of ``sources/crashpoints.py``, and a data
directory that fills up: what is published survives both, and a rerun needs no cleanup.

The suite's one clean ``ozg run`` of one snapshot (``one_snapshot_run``) is the reference.
Its data directory is copied, and in the copy one run after another is killed at the next
point (each rerun first recovers what the kill before it left), then a last run completes.
After every kill the published state is byte-identical to the reference's; after the last
run every mart equals it.
The disk test runs the copy on a small tmpfs that fills up during the rebuild.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import REFERENCE_SNAPSHOT, copy_run, published_state

from sources.crashpoints import ENV as CRASH_ENV

pytestmark = pytest.mark.slow

OZG = Path(sys.executable).parent / "ozg"
SNAPSHOT = REFERENCE_SNAPSHOT
RUN_BOUND_S = 420  # any single run (killed or not) must end within this, or the test fails
# Each kill needs fresh work to reach its point: the landing, the normalisation and (with
# unchanged publication inputs) dbt, publication and reports are skipped unless the run
# re-fetches.
CHAIN = [
    ("raw_landing", ["--force-refetch"]),
    ("before_promotion", ["--force-refetch"]),
    ("dbt_build", ["--force-refetch"]),
    ("publication", ["--force-refetch"]),
]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def ozg_run(data_dir: Path, *extra: str, crash_at: str | None = None) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OZG_") and k != "DAGSTER_HOME"}
    env["OZG_DATA_DIR"] = str(data_dir)
    if crash_at:
        env[CRASH_ENV] = crash_at
    started = time.monotonic()
    # Its own session: the crash point kills the process group (ozg and dbt), not pytest.
    process = subprocess.Popen(
        [str(OZG), "run", "--snapshot", SNAPSHOT, *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=RUN_BOUND_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"ozg run {' '.join(extra)} (crash at {crash_at}) exceeded {RUN_BOUND_S}s")
    return Run(process.returncode, stdout, stderr, time.monotonic() - started)


def mart_tables(database: Path) -> dict[str, pl.DataFrame]:
    """Every mart, sorted by all its columns (the row order is not part of a mart)."""
    with duckdb.connect(str(database), read_only=True) as con:
        names = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by table_name"
            ).fetchall()
        ]
        return {name: con.sql(f'select * from marts."{name}" order by all').pl() for name in names}


def assert_lake_consistent(data_dir: Path) -> None:
    """No raw snapshot marked complete that is not; every promoted partition opens."""
    for manifest_path in (data_dir / "raw").rglob("manifest.json"):
        manifest = json.loads(manifest_path.read_text("utf-8"))
        for entry in manifest["entries"]:
            body = gzip.decompress((manifest_path.parent / f"{entry['name']}.gz").read_bytes())
            assert hashlib.sha256(body).hexdigest() == entry["sha256"], (manifest_path, entry)
    partitions = list((data_dir / "normalized").glob("*/land=*/snapshot=*/data.parquet"))
    assert partitions, "no promoted partition"
    for partition in partitions:
        pl.read_parquet(partition)  # raises on a truncated or half-written file


@dataclass
class Reference:
    data_dir: Path
    published: dict[str, str]
    marts: dict[str, pl.DataFrame]


@pytest.fixture(scope="module")
def reference(one_snapshot_run: Path) -> Reference:
    data_dir = one_snapshot_run  # read only: every test works on a copy
    return Reference(
        data_dir, published_state(data_dir), mart_tables(data_dir / "published" / "ozg.duckdb")
    )


def copy_of(reference: Reference, target: Path) -> Path:
    return copy_run(reference.data_dir, target)


def test_runs_killed_anywhere_leave_the_publication_intact_and_a_rerun_completes(
    reference: Reference, tmp_path: Path
) -> None:
    data_dir = copy_of(reference, tmp_path / "data")
    log = []
    for point, extra in CHAIN:
        run = ozg_run(data_dir, *extra, crash_at=point)
        log.append(f"{point}: exit {run.returncode} after {run.seconds:.1f}s")
        assert run.returncode == -signal.SIGKILL, f"{point} never reached:\n{run.stderr[-3000:]}"
        assert published_state(data_dir) == reference.published, f"after the kill at {point}"
        assert_lake_consistent(data_dir)
        if point == "publication":
            # The kill during the dbt build left a started run holding the duckdb slot;
            # this run recovered it before any work (else it would have waited forever).
            assert "recovered: run" in run.stdout, run.stdout
    final = ozg_run(data_dir)
    log.append(f"final: exit {final.returncode} after {final.seconds:.1f}s")
    print("\n".join(log))
    assert final.returncode == 0, final.stderr[-3000:]
    assert "recovered: run" in final.stdout  # the run killed during publication
    published = mart_tables(data_dir / "published" / "ozg.duckdb")
    assert published.keys() == reference.marts.keys()
    for mart, frame in reference.marts.items():
        assert published[mart].equals(frame), mart
    assert not list((data_dir / "published" / ".versions").glob(".staging-*"))
    assert not list((data_dir / "normalized" / "_staging").rglob("*.parquet"))


def as_root(command: list[str]) -> list[str]:
    """``command`` as root: directly when this is root, else through passwordless sudo
    (CI has one or the other; .ci/run installs packages the same way)."""
    if os.geteuid() == 0:
        return command
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], check=False).returncode == 0:
        return ["sudo", "-n", *command]
    pytest.fail("the disk-full test mounts a tmpfs: it needs root or passwordless sudo")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs mount point, owned by this user once mounted; unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    yield mount
    subprocess.run(as_root(["umount", "-l", str(mount)]), check=False)


def mount_tmpfs(mount: Path, size_mb: int, *, remount: bool = False) -> None:
    options = f"size={size_mb}m,uid={os.getuid()},gid={os.getgid()},mode=0755"
    command = (
        ["mount", "-o", f"remount,{options}", str(mount)]
        if remount
        else ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)]
    )
    subprocess.run(as_root(command), check=True)


def test_a_full_disk_fails_the_run_with_the_path_and_a_rerun_after_freeing_space_completes(
    reference: Reference, small_disk: Path
) -> None:
    used = sum(p.stat().st_size for p in reference.data_dir.rglob("*") if p.is_file())
    # Room for the copy and a few MB more: the rebuild (new raw landing, warehouse,
    # publication copy) needs far more.
    size_mb = used // 2**20 + 6
    mount_tmpfs(small_disk, size_mb)
    data_dir = copy_of(reference, small_disk / "data")

    full = ozg_run(data_dir, "--force-refetch")

    assert full.returncode == 1, full.stdout[-2000:] + full.stderr[-2000:]
    (reason,) = [line for line in full.stderr.splitlines() if line.startswith("ozg: FAILED:")]
    assert "No space left on device" in reason, full.stderr[-3000:]
    assert str(data_dir) in reason, reason  # names the path it could not write
    assert published_state(data_dir) == reference.published

    subprocess.run(["mount", "-o", f"remount,size={size_mb + 400}m", str(small_disk)], check=True)
    rerun = ozg_run(data_dir)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    published = mart_tables(data_dir / "published" / "ozg.duckdb")
    for mart, frame in reference.marts.items():
        assert published[mart].equals(frame), mart
