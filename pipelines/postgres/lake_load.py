"""The Parquet lake as PostgreSQL tables, for ``dbt build --target postgres`` (docs/postgres.md).

On DuckDB the dbt sources read the lake in place (``read_parquet`` in the
``external_location`` of ``dbt_project/models/staging/_sources.yml``); on PostgreSQL each
source is a plain table ``lake.<source>_<table>`` (``lake.normalized_gebiete``,
``lake.quarantine_verfuegbarkeit``, ``lake.quality_leistungen``,
``lake.analysis_rollout_km``, …) that this module fills:

* every file is read by DuckDB with the very ``read_parquet`` call of the dbt source — the
  same glob, the same options, hence the same columns, including the hive keys ``land`` /
  ``snapshot`` and the ``filename`` where the source has them. The options are fixed in
  ``READS`` below and checked against ``_sources.yml`` on every load; only the glob (the data
  directory) is a bound parameter;
* the columns get the PostgreSQL type of their DuckDB type (``pg_type``); text columns are
  ``collate "C"``, so comparisons and orderings over lake values are bytewise as in DuckDB
  whatever the database's default collation;
* DuckDB writes the rows as CSV (NULL unquoted and empty, the empty string quoted, floats in
  their shortest round-trip form) and ``COPY … FROM STDIN (FORMAT csv)`` loads them, all
  tables in one transaction: readers see the previous load or this one. A table whose
  columns are unchanged is truncated (the dbt staging views on it stay); otherwise it is
  dropped with its dependants and created anew.

A source without any file (``read_parquet`` would fail on DuckDB; typically the analysis
output before the analysis ran) becomes an empty table with the columns declared in
``_sources.yml``.

``build`` then runs ``dbt build --target postgres`` (profile ``ozg``, output ``postgres``),
with the profile's environment derived from the DSN (``postgres_environment``)::

    python -m pipelines.postgres.lake_load --data-dir data \
        --dsn postgresql://ozg@127.0.0.1:5432/ozg --build
"""

from __future__ import annotations

import argparse
import glob
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import duckdb
import yaml

from pipelines.postgres.publish import pg_type as published_type
from pipelines.warehouse import DBT_PROJECT_DIR, dbt_environment, run_dbt

SOURCES_YML = DBT_PROJECT_DIR / "models" / "staging" / "_sources.yml"
# The schema of the source tables on PostgreSQL (the `schema:` of _sources.yml's sources).
LAKE_SCHEMA = "lake"
# The dbt profile output for PostgreSQL (dbt_project/profiles.yml).
DBT_TARGET = "postgres"

# The read_parquet calls of the dbt sources, by their options after the path (the
# external_location of _sources.yml without its path literal). $files is the glob.
READS = {
    "": "select * from read_parquet($files)",
    ", hive_partitioning = false, filename = true, union_by_name = true": (
        "select * from read_parquet($files, hive_partitioning = false, filename = true, "
        "union_by_name = true)"
    ),
    ", hive_partitioning = true, hive_types = {'land': VARCHAR, 'snapshot': DATE}, "
    "union_by_name = true": (
        "select * from read_parquet($files, hive_partitioning = true, "
        "hive_types = {'land': VARCHAR, 'snapshot': DATE}, union_by_name = true)"
    ),
}
# external_location: read_parquet('{{ env_var('OZG_DATA_DIR_ABS', …) }}/<path>'<options>)
LOCATION = re.compile(
    r"read_parquet\('\{\{\s*env_var\('OZG_DATA_DIR_ABS'[^}]*\}\}/(?P<path>[^']+)'(?P<options>.*)\)",
    re.DOTALL,
)
# Text columns of the lake sort and compare bytewise, as in DuckDB; every other type maps as
# the publication maps it (``publish.pg_type``, the one DuckDB → PostgreSQL type table).
LAKE_TEXT = 'varchar collate "C"'


class LakeLoadError(RuntimeError):
    """The lake cannot be loaded as the dbt sources read it (unknown read options or types)."""


@dataclass(frozen=True)
class SourceTable:
    """One table of a dbt source: where its files are and how DuckDB reads them."""

    source: str  # normalized, quarantine, quality, analysis
    name: str  # gebiete, …, rollout_km
    path: str  # the glob below the data directory
    query: str  # one of READS
    declared: tuple[tuple[str, str], ...]  # (column, DuckDB type) of _sources.yml

    @property
    def identifier(self) -> str:
        """The table's name in LAKE_SCHEMA (the `identifier:` of _sources.yml)."""
        return f"{self.source}_{self.name}"


@dataclass(frozen=True)
class LoadedTable:
    table: str  # lake.<identifier>
    files: int
    rows: int
    columns: tuple[tuple[str, str], ...]  # (column, PostgreSQL type)


@dataclass(frozen=True)
class DbtBuild:
    """A finished ``dbt build`` on PostgreSQL."""

    seconds: float
    statuses: dict[str, int]  # dbt status → nodes (success, pass, warn, …)
    results: list[dict[str, Any]]  # run_results.json "results"


def source_tables(sources_yml: Path = SOURCES_YML) -> list[SourceTable]:
    """Every table of the dbt sources with its glob and read_parquet call, in YAML order."""
    tables = []
    for source in yaml.safe_load(sources_yml.read_text(encoding="utf-8"))["sources"]:
        for table in source["tables"]:
            location = str((table.get("meta") or {}).get("external_location", ""))
            found = LOCATION.fullmatch(location.strip())
            if found is None or found["options"] not in READS:
                raise LakeLoadError(
                    f"source {source['name']}.{table['name']}: external_location {location!r} "
                    "is not one of the read_parquet calls the loader knows (lake_load.READS)"
                )
            named = (str(source.get("schema", "")), str(table.get("identifier", "")))
            wanted = (f"'{LAKE_SCHEMA}'", f"'{source['name']}_{table['name']}'")
            if not all(w in n for w, n in zip(wanted, named, strict=True)):
                raise LakeLoadError(
                    f"source {source['name']}.{table['name']}: on postgres its schema must be "
                    f"{wanted[0]} and its identifier {wanted[1]} (schema: {named[0]!r}, "
                    f"identifier: {named[1]!r})"
                )
            tables.append(
                SourceTable(
                    source=source["name"],
                    name=table["name"],
                    path=Template(found["path"]).substitute(name=table["name"]),
                    query=READS[found["options"]],
                    declared=tuple(
                        (str(c["name"]), str(c["data_type"]).upper()) for c in table["columns"]
                    ),
                )
            )
    return tables


def pg_type(duckdb_type: str, column: str) -> str:
    if duckdb_type == "VARCHAR":
        return LAKE_TEXT
    mapped = published_type(duckdb_type)
    if mapped is None or mapped == "jsonb":  # the lake holds no nested values
        raise LakeLoadError(f"column {column}: no PostgreSQL type for DuckDB {duckdb_type}")
    return mapped


def load_lake(
    data_dir: Path, dsn: str, *, sources_yml: Path = SOURCES_YML, schema: str = LAKE_SCHEMA
) -> list[LoadedTable]:
    """Load every dbt source table of ``data_dir``'s lake into ``schema`` at ``dsn``, in one
    transaction, and ANALYZE them; returns what was loaded."""
    import psycopg2
    from psycopg2 import sql

    root = Path(data_dir).resolve()
    tables = source_tables(sources_yml)
    loaded = []
    connection = psycopg2.connect(dsn)
    try:
        connection.set_client_encoding("UTF8")
        _check_database(connection)
        with (
            connection,  # one transaction: commit on success, roll back on an error
            connection.cursor() as cursor,
            duckdb.connect() as lake,
            tempfile.TemporaryDirectory(prefix="ozg-lake-load-") as scratch,
        ):
            cursor.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
            for table in tables:
                loaded.append(_load_table(cursor, lake, root, table, schema, Path(scratch)))
        connection.autocommit = True  # ANALYZE outside the load's transaction
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(
                    sql.SQL("analyze {}").format(sql.Identifier(schema, table.identifier))
                )
    finally:
        connection.close()
    return loaded


def _check_database(connection: Any) -> None:
    """UTF8 is required; a collation other than C is warned about (docs/postgres.md)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "select pg_encoding_to_char(encoding), datcollate from pg_database "
            "where datname = current_database()"
        )
        encoding, collation = cursor.fetchone()
    connection.rollback()
    if encoding != "UTF8":
        raise LakeLoadError(f"the database's encoding is {encoding}, not UTF8")
    if collation not in ("C", "POSIX", "C.UTF-8", "C.utf8"):
        warnings.warn(
            f"the database's collation is {collation}: text orderings over seed values may "
            "differ from DuckDB's bytewise order (docs/postgres.md)",
            stacklevel=3,
        )


def _load_table(
    cursor: Any,
    lake: duckdb.DuckDBPyConnection,
    root: Path,
    table: SourceTable,
    schema: str,
    scratch: Path,
) -> LoadedTable:
    from psycopg2 import sql

    files = sorted(glob.glob(str(root / table.path)))
    if files:
        relation = lake.sql(table.query, params={"files": str(root / table.path)})
        columns = [(c, str(t)) for c, t in zip(relation.columns, relation.types, strict=True)]
        missing = [c for c, _ in table.declared if c not in dict(columns)]
        if missing:
            raise LakeLoadError(f"{table.identifier}: the files lack the columns {missing}")
    else:
        relation = None
        columns = list(table.declared)
    wanted = tuple((column, pg_type(dtype, column)) for column, dtype in columns)
    target = sql.Identifier(schema, table.identifier)
    names = sql.SQL(", ").join(sql.Identifier(column) for column, _ in wanted)
    if _existing_columns(cursor, schema, table.identifier) == wanted:
        cursor.execute(sql.SQL("truncate table {}").format(target))
    else:
        cursor.execute(sql.SQL("drop table if exists {} cascade").format(target))
        definition = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(pgtype))
            for column, pgtype in wanted
        )
        cursor.execute(sql.SQL("create table {} ({})").format(target, definition))
    rows = 0
    if relation is not None:
        csv = scratch / f"{table.identifier}.csv"
        relation.write_csv(str(csv), header=False)
        with open(csv, "rb") as handle:
            cursor.copy_expert(
                sql.SQL("copy {} ({}) from stdin with (format csv)").format(target, names), handle
            )
        rows = cursor.rowcount
        csv.unlink()
    return LoadedTable(f"{schema}.{table.identifier}", len(files), rows, wanted)


def _existing_columns(cursor: Any, schema: str, table: str) -> tuple[tuple[str, str], ...]:
    """The table's columns as ``pg_type`` spells them (empty if there is no such table)."""
    cursor.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod), coalesce(o.collname, '') "
        "from pg_attribute a "
        "join pg_class c on c.oid = a.attrelid "
        "join pg_namespace n on n.oid = c.relnamespace "
        "left join pg_collation o on o.oid = a.attcollation "
        "where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped "
        "order by a.attnum",
        [schema, table],
    )
    spelled = {
        ("character varying", "C"): LAKE_TEXT,
        ("timestamp without time zone", ""): "timestamp",
        ("timestamp with time zone", ""): "timestamptz",
    }
    return tuple(
        (name, spelled.get((pgtype, collation), pgtype)) for name, pgtype, collation in cursor
    )


# -- the dbt build on PostgreSQL --------------------------------------------------------------
def postgres_environment(dsn: str) -> dict[str, str]:
    """The variables of the profile's ``postgres`` output (dbt_project/profiles.yml) for ``dsn``
    (a URI ``postgresql://user:password@host:port/dbname`` or ``key=value`` pairs)."""
    from psycopg2.extensions import parse_dsn

    given = parse_dsn(dsn)
    user = given.get("user") or "postgres"
    return {
        "OZG_POSTGRES_HOST": given.get("host") or "localhost",
        "OZG_POSTGRES_PORT": given.get("port") or "5432",
        "OZG_POSTGRES_USER": user,
        "OZG_POSTGRES_PASSWORD": given.get("password") or "",
        "OZG_POSTGRES_DBNAME": given.get("dbname") or user,
    }


def build(
    data_dir: Path, dsn: str, *, threads: int | None = None, args: Sequence[str] = ()
) -> DbtBuild:
    """``dbt build --target postgres`` of the whole project (models, seeds, unit and data
    tests) against the tables ``load_lake`` filled, in a private target directory (the
    shared ``dbt_project/target`` keeps the DuckDB manifest). A failure raises
    RuntimeError naming each failing node with dbt's message."""
    environment = {**dbt_environment(data_dir), **postgres_environment(dsn)}
    extra = [*(["--threads", str(threads)] if threads else []), *args]
    started = time.perf_counter()
    run_results = run_dbt(
        ["build", "--quiet", *extra], environment, target=DBT_TARGET, what="dbt build (postgres)"
    )
    seconds = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for result in run_results["results"]:
        statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    return DbtBuild(seconds, statuses, run_results["results"])


# -- command line ---------------------------------------------------------------------------
@contextmanager
def _timed(what: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    print(f"{what} {time.perf_counter() - started:.1f}s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.postgres.lake_load",
        description="Load the Parquet lake into PostgreSQL (schema lake) for the dbt build.",
    )
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="default: data")
    parser.add_argument("--dsn", required=True, help="postgresql://user[:password]@host[:port]/db")
    parser.add_argument("--build", action="store_true", help="then run dbt build --target postgres")
    parser.add_argument("--threads", type=int, help="dbt threads (default: the profile's)")
    options = parser.parse_args(argv)
    import psycopg2

    try:
        with _timed("lake loaded in"):
            for table in load_lake(options.data_dir, options.dsn):
                print(f"  {table.table:<40} {table.rows:>10,} rows  {table.files:>4} files")
        if options.build:
            done = build(options.data_dir, options.dsn, threads=options.threads)
            counts = ", ".join(f"{n} {status}" for status, n in sorted(done.statuses.items()))
            print(f"dbt build --target postgres {done.seconds:.1f}s: {counts}")
    except (RuntimeError, OSError, duckdb.Error, psycopg2.Error) as error:
        print(f"lake_load: FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
