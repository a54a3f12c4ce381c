"""The publication inputs: what decides that a run may skip dbt, publication and reports."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pipelines.publication import inputs


@pytest.fixture
def code_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small stand-in for the repository: the hashed code folders with one file each."""
    root = tmp_path / "repo"
    for relative in ("dbt_project/models/mart.sql", "pipelines/a.py", "sources/b.py"):
        (root / relative).parent.mkdir(parents=True)
        (root / relative).write_text("select 1\n", "utf-8")
    monkeypatch.setattr(inputs, "ROOT", root)
    return root


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    for relative in (
        "normalized/verfuegbarkeit/land=06/snapshot=2026-11-01/data.parquet",
        "quarantine/verfuegbarkeit/land=06/snapshot=2026-11-01/data.parquet",
        "quality/unknown_fields/verfuegbarkeit/land=06/snapshot=2026-11-01/data.parquet",
    ):
        (data / relative).parent.mkdir(parents=True)
        (data / relative).write_bytes(b"PAR1")
    return data


def test_the_same_state_gives_the_same_inputs(code_root: Path, data_dir: Path) -> None:
    assert inputs.publication_inputs(data_dir, "sample") == inputs.publication_inputs(
        data_dir, "sample"
    )


def test_a_rebuilt_partition_changes_the_inputs(code_root: Path, data_dir: Path) -> None:
    before = inputs.publication_inputs(data_dir, "sample")
    partition = data_dir / "quarantine/verfuegbarkeit/land=06/snapshot=2026-11-01/data.parquet"
    stat = partition.stat()
    # Same size, one nanosecond later: a promotion writes a new file.
    os.utime(partition, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert inputs.publication_inputs(data_dir, "sample") != before


def test_a_new_partition_and_another_mode_change_the_inputs(
    code_root: Path, data_dir: Path
) -> None:
    before = inputs.publication_inputs(data_dir, "sample")
    assert inputs.publication_inputs(data_dir, "live") != before
    extra = data_dir / "normalized/gebiete/land=06/snapshot=2026-11-01/data.parquet"
    extra.parent.mkdir(parents=True)
    extra.write_bytes(b"PAR1")
    assert inputs.publication_inputs(data_dir, "sample") != before


def test_attempts_nobody_reads_do_not_change_the_inputs(code_root: Path, data_dir: Path) -> None:
    before = inputs.publication_inputs(data_dir, "sample")
    for unread in ("_staging", "_rejected"):
        staged = data_dir / f"normalized/{unread}/verfuegbarkeit/land=06/data.parquet"
        staged.parent.mkdir(parents=True)
        staged.write_bytes(b"PAR1")
    (data_dir / "published").mkdir()
    (data_dir / "published" / "ozg.duckdb").write_bytes(b"x")
    assert inputs.publication_inputs(data_dir, "sample") == before


def test_a_code_edit_changes_the_inputs_build_output_does_not(
    code_root: Path, data_dir: Path
) -> None:
    before = inputs.publication_inputs(data_dir, "sample")
    (code_root / "dbt_project/target").mkdir()
    (code_root / "dbt_project/target/manifest.json").write_text("{}", "utf-8")
    (code_root / "pipelines/__pycache__").mkdir()
    (code_root / "pipelines/__pycache__/a.cpython-311.pyc").write_bytes(b"\0")
    assert inputs.publication_inputs(data_dir, "sample") == before
    (code_root / "dbt_project/models/mart.sql").write_text("select 2\n", "utf-8")
    assert inputs.publication_inputs(data_dir, "sample") != before


def test_records_are_read_back_and_all_must_agree(tmp_path: Path) -> None:
    warehouse, published, reports = (tmp_path / name for name in ("w", "p", "r"))
    for directory in (warehouse, published, reports):
        directory.mkdir()
        inputs.write_inputs(directory, "abc")
    assert inputs.read_inputs(published) == "abc"
    assert inputs.recorded_everywhere((warehouse, published, reports), "abc")
    assert not inputs.recorded_everywhere((warehouse, published, reports), "abd")
    inputs.clear_inputs(warehouse)
    assert inputs.read_inputs(warehouse) is None
    assert not inputs.recorded_everywhere((warehouse, published, reports), "abc")
    (reports / inputs.INPUTS_FILE).write_text("not json", "utf-8")
    assert inputs.read_inputs(reports) is None
    shutil.rmtree(published)
    assert inputs.read_inputs(published) is None
