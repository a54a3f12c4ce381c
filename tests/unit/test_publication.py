"""Publishing a warehouse: the exports depend on the data only, not on DuckDB's row order."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import duckdb
import polars as pl

from pipelines.publication.publish import CSV_BOM, publish

ROWS = [(f"06{n:010d}", n % 7, n / 8) for n in range(500)]


def _warehouse(path: Path, rows: list[tuple[str, int, float]]) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.mart_probe (ars varchar, klasse integer, quote double)")
        con.executemany("insert into marts.mart_probe values (?, ?, ?)", rows)
    return path


def test_exports_are_the_same_files_whatever_order_the_rows_were_stored_in(
    tmp_path: Path,
) -> None:
    shuffled = ROWS.copy()
    random.Random(7).shuffle(shuffled)
    exports = {}
    for name, rows in (("sorted", ROWS), ("reversed", ROWS[::-1]), ("shuffled", shuffled)):
        warehouse = _warehouse(tmp_path / f"{name}.duckdb", rows)
        result = publish(warehouse, tmp_path / name, mode="sample")
        assert result.marts == {"mart_probe": len(ROWS)}
        exports[name] = {
            suffix: (result.marts_dir / f"mart_probe.{suffix}").read_bytes()
            for suffix in ("csv", "parquet")
        }
    assert exports["sorted"] == exports["reversed"] == exports["shuffled"]
    # Sorted by every column, in the table's column order; German decimal comma in the CSV.
    frame = pl.read_parquet(tmp_path / "shuffled" / "published" / "marts" / "mart_probe.parquet")
    assert frame.rows() == sorted(ROWS)
    lines = exports["shuffled"]["csv"].decode("utf-8").removeprefix(CSV_BOM).splitlines()
    assert lines[:3] == ["ars;klasse;quote", "060000000000;0;0,0", "060000000001;1;0,125"]


def _published_counts(data_dir: Path) -> tuple[int, dict[str, int]]:
    """Rows of mart_probe in the published database and in the exports' manifest."""
    root = data_dir / "published"
    with duckdb.connect(str(root / "ozg.duckdb"), read_only=True) as con:
        (rows,) = con.execute("select count(*) from marts.mart_probe").fetchone()  # type: ignore[misc]
    manifest = json.loads((root / "marts" / "_published.json").read_text(encoding="utf-8"))
    return rows, manifest["marts"]


def test_database_and_exports_are_published_together_by_one_link(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = publish(_warehouse(tmp_path / "a.duckdb", ROWS[:10]), data_dir, mode="sample")
    root = data_dir / "published"
    first_version = (root / "current").resolve()
    # What a run killed before its flip leaves behind: a staging directory.
    (root / ".versions" / ".staging-deadbeef").mkdir()

    second = publish(_warehouse(tmp_path / "b.duckdb", ROWS[:20]), data_dir, mode="sample")

    assert _published_counts(data_dir) == (20, {"mart_probe": 20}) == (20, second.marts)
    assert first.marts == {"mart_probe": 10}
    # Readers use fixed names; only `current` moves, and the previous version stays.
    assert os.readlink(root / "ozg.duckdb") == "current/ozg.duckdb"
    assert os.readlink(root / "marts") == "current/marts"
    assert (root / "current").resolve() != first_version and first_version.is_dir()
    assert (root / "current" / "ozg.duckdb").resolve() == (root / "ozg.duckdb").resolve()
    assert sorted(p.name for p in (root / ".versions").iterdir()) == sorted(
        [first_version.name, (root / "current").resolve().name]
    )
    third = publish(_warehouse(tmp_path / "c.duckdb", ROWS[:30]), data_dir, mode="sample")
    assert third.marts == {"mart_probe": 30}
    assert not first_version.exists()  # two versions are kept
    assert not list(root.glob(".link-*"))


def test_a_publication_of_the_first_layout_is_taken_over(tmp_path: Path) -> None:
    """Before: published/ozg.duckdb a file, published/marts a link to .versions/<stamp>/."""
    data_dir = tmp_path / "data"
    root = data_dir / "published"
    old_version = root / ".versions" / "20260101T000000000000Z"
    old_version.mkdir(parents=True)
    (old_version / "_published.json").write_text('{"marts": {}}', encoding="utf-8")
    (root / "marts").symlink_to(Path(".versions") / old_version.name, target_is_directory=True)
    _warehouse(root / "ozg.duckdb", ROWS[:5])

    publish(_warehouse(tmp_path / "new.duckdb", ROWS[:8]), data_dir, mode="sample")

    assert _published_counts(data_dir) == (8, {"mart_probe": 8})
    assert (root / "ozg.duckdb").is_symlink() and (root / "marts").is_symlink()
