"""Publishing a warehouse: the exports depend on the data only, not on DuckDB's row order."""

from __future__ import annotations

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
