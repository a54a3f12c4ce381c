"""Atomic publishing of the marts for BI tools and spreadsheets.

After a run whose blocking checks all passed:

* the warehouse is copied to ``data/published/ozg.duckdb`` through a temporary file in
  the same directory and ``os.replace`` — readers that opened the old file keep reading
  it (POSIX keeps the old inode alive), new readers get the new one, nobody sees a
  half-written file, and no reader ever holds a lock on the file dbt writes;
* every mart is exported to ``data/published/marts/<mart>.parquet`` and ``.csv``
  (UTF-8 with BOM and ``;`` so German Excel opens it correctly). ``marts`` is a symlink
  to a versioned directory and is flipped atomically, so the exports a reader sees
  always belong to one build; the previous version is kept for readers still in it.

A failed run never reaches this step, so the last published state stays as it was.
No Dagster here: the ``published/warehouse`` asset wraps ``publish``.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from sources.files import atomic_copy

CSV_BOM = "\ufeff"


@dataclass(frozen=True)
class Published:
    database: Path
    marts_dir: Path
    marts: dict[str, int]  # mart -> rows


def published_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "published"


def _export_marts(database: Path, out_dir: Path) -> dict[str, int]:
    """Export every table of schema ``marts`` from a (private) copy of the warehouse."""
    out_dir.mkdir(parents=True)
    counts: dict[str, int] = {}
    with duckdb.connect(str(database), read_only=True) as con:
        marts = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by table_name"
            ).fetchall()
        ]
        for mart in marts:
            relation = f'marts."{mart}"'
            # Rows sorted by every column: DuckDB's parallel plans return them in varying
            # order, and an export must be the same file when the data are the same.
            names = _column_names(con, mart)
            order = ", ".join(f'm."{name}"' for name in names)
            parquet = out_dir / f"{mart}.parquet"
            con.execute(
                f"copy (select * from {relation} as m order by {order}) "
                f"to '{parquet}' (format parquet)"
            )
            csv_body = out_dir / f".{mart}.csv.body"
            con.execute(
                f"copy (select {_german_csv_columns(con, mart)} from {relation} as m "
                f"order by {order}) "
                f"to '{csv_body}' (format csv, header true, delimiter ';', quote '\"')"
            )
            with open(out_dir / f"{mart}.csv", "w", encoding="utf-8", newline="") as target:
                target.write(CSV_BOM)
                with open(csv_body, encoding="utf-8") as body:
                    shutil.copyfileobj(body, target)
            csv_body.unlink()
            counts[mart] = con.execute(f"select count(*) from {relation}").fetchone()[0]  # type: ignore[index]
    return counts


def _columns(con: duckdb.DuckDBPyConnection, mart: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = ? order by ordinal_position",
        [mart],
    ).fetchall()


def _column_names(con: duckdb.DuckDBPyConnection, mart: str) -> list[str]:
    return [name for name, _ in _columns(con, mart)]


def _german_csv_columns(con: duckdb.DuckDBPyConnection, mart: str) -> str:
    """Select list with decimal commas for fractional numbers (DuckDB writes only '.')."""
    columns = _columns(con, mart)
    return ", ".join(
        f"replace(cast({name} as varchar), '.', ',') as {name}"
        if dtype in ("DOUBLE", "FLOAT", "REAL") or dtype.startswith("DECIMAL")
        else name
        for name, dtype in columns
    )


def publish(warehouse: Path, data_dir: Path, *, mode: str) -> Published:
    """Publish ``warehouse`` (not opened for writing here) under ``data/published``."""
    root = published_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        # Work on a private copy: exports never touch the file dbt writes or readers read.
        private = staging / "ozg.duckdb"
        shutil.copyfile(warehouse, private)
        counts = _export_marts(private, staging / "marts")
        manifest = {
            "published_at": datetime.now(UTC).isoformat(),
            "mode": mode,
            "sample": mode == "sample",
            "marts": counts,
            "note": (
                "Beispieldaten – synthetisch, keine amtlichen Zahlen"
                if mode == "sample"
                else "Live-Daten aus den öffentlichen Schnittstellen"
            ),
        }
        (staging / "marts" / "_published.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        _flip_marts(staging / "marts", root)
        atomic_copy(private, root / "ozg.duckdb")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Published(root / "ozg.duckdb", root / "marts", counts)


def _flip_marts(new: Path, root: Path, keep: int = 2) -> None:
    """Move ``new`` to ``.versions/`` and point the ``marts`` symlink at it atomically."""
    versions = root / ".versions"
    versions.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    version = versions / stamp
    os.replace(new, version)
    link = root / "marts"
    if link.exists() and not link.is_symlink():  # a directory from an older layout
        shutil.rmtree(link)
    tmp_link = root / f".marts-{uuid.uuid4().hex[:8]}"
    tmp_link.symlink_to(Path(".versions") / stamp, target_is_directory=True)
    os.replace(tmp_link, link)
    for old in sorted(p for p in versions.iterdir() if p.is_dir())[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
