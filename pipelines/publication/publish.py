"""Atomic publishing of the marts for BI tools and spreadsheets.

After a run whose blocking checks all passed:

* the warehouse is copied to ``data/published/ozg.duckdb`` and every mart exported to
  ``data/published/marts/<mart>.parquet`` and ``.csv`` (UTF-8 with BOM and ``;`` so German
  Excel opens it correctly). Both are built in a new ``.versions/<stamp>/`` directory and
  published together by flipping the ``current`` symlink atomically (``ozg.duckdb`` and
  ``marts`` are fixed links into ``current``), so the database and the exports a reader
  sees always belong to one build, even after a run killed half way. Readers that opened
  the old file keep reading it (the previous version is kept), and no reader ever holds a
  lock on the file dbt writes.
* with a PostgreSQL target (``OZG_PUBLISH_POSTGRES_DSN``, ``pipelines/postgres/publish.py``)
  every mart of the new version's DuckDB file is also copied into a fresh schema that then
  replaces the live one (``ozg_marts``) in one transaction. This happens *after* the new
  version is complete and *before* the ``current`` link flips: the flip is the step's
  commit point. A failure while writing to PostgreSQL leaves the old PostgreSQL schema
  live, discards the new version, leaves ``current`` where it was and fails the step with
  ``PostgresPublicationError`` naming the server, schema and mart; the reports (the next
  step) are not rendered, so the next run publishes again. A process killed after the
  PostgreSQL swap and before the flip leaves PostgreSQL one version ahead (its
  ``_publication`` table names the version, ``publication_id``, which is the
  ``.versions/<stamp>`` name and is in ``_published.json``); the next run publishes both.

A failed run never reaches this step, so the last published state stays as it was.
No Dagster here: the ``published/warehouse`` asset wraps ``publish``.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.postgres.publish import PostgresPublished, PostgresTarget, publish_marts
from pipelines.publication.inputs import INPUTS_FILE
from sources.crashpoints import crash_point
from sources.identifiers import identifier_list, quote_identifier, relation, validate_file_name

CSV_BOM = "\ufeff"
# Layout under data/published/: current -> .versions/<stamp>/{ozg.duckdb, marts/};
# ozg.duckdb -> current/ozg.duckdb and marts -> current/marts are the names readers use.
VERSIONS = ".versions"
CURRENT = "current"
DATABASE = "ozg.duckdb"
MARTS = "marts"
STAGING_PREFIX = ".staging-"


@dataclass(frozen=True)
class Published:
    database: Path
    marts_dir: Path
    marts: dict[str, int]  # mart -> rows
    publication_id: str = ""  # the .versions/<stamp> name
    postgres: PostgresPublished | None = None  # None: no PostgreSQL target configured


def published_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "published"


def current_publication(data_dir: Path) -> Path:
    """The directory of the current publication (``published/current``)."""
    return published_dir(data_dir) / CURRENT


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
            # Names from the catalogue: checked as file names and quoted as identifiers.
            validate_file_name(mart, what="mart name")
            table = relation("marts", mart)
            # Rows sorted by every column: DuckDB's parallel plans return them in varying
            # order, and an export must be the same file when the data are the same.
            order = identifier_list(_column_names(con, mart), table="m")
            parquet = out_dir / f"{mart}.parquet"
            con.execute(
                f"copy (select * from {table} as m order by {order}) to ? (format parquet)",
                [str(parquet)],
            )
            csv_body = out_dir / f".{mart}.csv.body"
            con.execute(
                f"copy (select {_german_csv_columns(con, mart)} from {table} as m "
                f"order by {order}) "
                "to ? (format csv, header true, delimiter ';', quote '\"')",
                [str(csv_body)],
            )
            with open(out_dir / f"{mart}.csv", "w", encoding="utf-8", newline="") as target:
                target.write(CSV_BOM)
                with open(csv_body, encoding="utf-8") as body:
                    shutil.copyfileobj(body, target)
            csv_body.unlink()
            counts[mart] = con.execute(f"select count(*) from {table}").fetchone()[0]  # type: ignore[index]
    return counts


def mart_columns(con: duckdb.DuckDBPyConnection, mart: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of every column of ``marts.<mart>``, in table order."""
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = ? order by ordinal_position",
        [mart],
    ).fetchall()


def _column_names(con: duckdb.DuckDBPyConnection, mart: str) -> list[str]:
    return [name for name, _ in mart_columns(con, mart)]


def _german_csv_columns(con: duckdb.DuckDBPyConnection, mart: str) -> str:
    """Select list with decimal commas for fractional numbers (DuckDB writes only '.')."""
    columns = [(quote_identifier(name), dtype) for name, dtype in mart_columns(con, mart)]
    return ", ".join(
        f"replace(cast(m.{name} as varchar), '.', ',') as {name}"
        if dtype in ("DOUBLE", "FLOAT", "REAL") or dtype.startswith("DECIMAL")
        else f"m.{name}"
        for name, dtype in columns
    )


def publish(
    warehouse: Path,
    data_dir: Path,
    *,
    mode: str,
    postgres: PostgresTarget | None = None,
    log: Callable[[str], None] | None = None,
) -> Published:
    """Publish ``warehouse`` (not opened for writing here) under ``data/published``, and to
    ``postgres`` when given (None: nothing touches PostgreSQL).

    The copy of the warehouse and the exports are finished in a staging directory, which
    becomes ``.versions/<stamp>``; one ``os.replace`` of the ``current`` symlink then
    publishes both together. A run killed at any moment leaves ``current`` at a complete
    publication (the previous one, or this one). The PostgreSQL schema is swapped between
    the two (module docstring)."""
    root = published_dir(data_dir)
    versions = root / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    staging = versions / f"{STAGING_PREFIX}{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        # Work on a private copy: exports never touch the file dbt writes or readers read.
        private = staging / DATABASE
        shutil.copyfile(warehouse, private)
        # What the warehouse was built from travels with it (pipelines/publication/inputs.py).
        if (Path(warehouse).parent / INPUTS_FILE).exists():
            shutil.copyfile(Path(warehouse).parent / INPUTS_FILE, staging / INPUTS_FILE)
        counts = _export_marts(private, staging / MARTS)
        built_at = datetime.now(UTC)
        stamp = built_at.strftime("%Y%m%dT%H%M%S%fZ")
        manifest = {
            "published_at": built_at.isoformat(),
            "publication_id": stamp,
            "mode": mode,
            "sample": mode == "sample",
            "marts": counts,
            "note": (
                "Beispieldaten – synthetisch, keine amtlichen Zahlen"
                if mode == "sample"
                else "Live-Daten aus den öffentlichen Schnittstellen"
            ),
            # Where else this version is published (never the DSN: it may hold a password).
            "postgres": postgres.describe() if postgres is not None else None,
        }
        (staging / MARTS / "_published.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        pg = None
        if postgres is not None:
            pg = publish_marts(
                private,
                postgres,
                publication_id=stamp,
                built_at=built_at,
                mode=mode,
                work_dir=staging,
                log=log,
            )
        version = versions / stamp
        os.replace(staging, version)
        crash_point("publication")
        _point(root / CURRENT, Path(VERSIONS) / version.name)
        # Stable names for readers (no-ops after the first publication of this layout).
        _point(root / DATABASE, Path(CURRENT) / DATABASE)
        _point(root / MARTS, Path(CURRENT) / MARTS)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _remove_old_versions(versions, keep=2)
    return Published(root / DATABASE, root / MARTS, counts, stamp, pg)


def _point(link: Path, target: Path) -> None:
    """Make ``link`` a symlink to ``target`` with one atomic rename (replacing a file or
    link of an older layout the same way)."""
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    if link.is_dir() and not link.is_symlink():  # a marts directory of the first layout
        shutil.rmtree(link)
    tmp_link = link.with_name(f".link-{uuid.uuid4().hex[:8]}-{link.name}")
    tmp_link.symlink_to(target, target_is_directory=link.name != DATABASE)
    os.replace(tmp_link, link)


def _remove_old_versions(versions: Path, keep: int) -> None:
    """Keep the newest ``keep`` versions (readers may still be inside the previous one)
    and drop staging directories a killed run left behind."""
    finished = sorted(p for p in versions.iterdir() if p.is_dir() and p.name[0].isdigit())
    for old in finished[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    for leftover in versions.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(leftover, ignore_errors=True)
