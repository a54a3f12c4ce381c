"""The dbt project on PostgreSQL (issue 15, item 1; docs/postgres.md): the lake of the
one-snapshot reference run loaded by ``pipelines.postgres.lake_load`` and built with
``dbt build --target postgres`` (models, seeds, unit and data tests) gives every mart of the
DuckDB build — the same marts, columns and rows: exact for keys, text, dates, booleans and
integers, floats within 1e-9 relative (and 1e-12 absolute, for differences of equal values).

The server is the suite's throwaway PostgreSQL (``postgres_dsn``); the module works in a
database of its own (C collation, UTF8), dropped at the end.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import pytest
from psycopg2 import sql
from psycopg2.extensions import make_dsn

from pipelines.postgres.lake_load import LAKE_SCHEMA, READS, build, load_lake, source_tables
from pipelines.publication.publish import mart_columns
from pipelines.warehouse import mart_definitions, warehouse_path

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REL_TOL = 1e-9
ABS_TOL = 1e-12
# information_schema.columns.data_type on PostgreSQL → DuckDB's name of the same type.
DUCKDB_TYPE = {
    "character varying": "VARCHAR",
    "text": "VARCHAR",
    "boolean": "BOOLEAN",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "double precision": "DOUBLE",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
}


@pytest.fixture(scope="module")
def database(postgres_dsn: str) -> Iterator[str]:
    """The DSN of a fresh database of this module's (C collation, UTF8), dropped afterwards."""
    name = f"t{uuid.uuid4().hex[:8]}_dbt"
    admin = psycopg2.connect(postgres_dsn)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL(
                    "create database {} template template0 encoding 'UTF8' "
                    "lc_collate 'C' lc_ctype 'C'"
                ).format(sql.Identifier(name))
            )
        yield make_dsn(postgres_dsn, dbname=name)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL("drop database if exists {} (force)").format(sql.Identifier(name))
            )
        admin.close()


# -- comparison ----------------------------------------------------------------------------------
def _sort_key(row: Sequence[Any], floats: Sequence[int]) -> tuple[Any, ...]:
    """Every column, nulls first; float columns last, rounded to 9 significant digits (so a
    last-bit difference between the engines never reorders rows), NaN after the numbers."""
    others = [(v is not None, v) for i, v in enumerate(row) if i not in floats]
    rounded = [
        (0, 0.0)
        if row[i] is None
        else (2, 0.0)
        if math.isnan(row[i])
        else (1, float(f"{row[i]:.9g}"))
        for i in floats
    ]
    return (*others, *rounded)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return type(a) is type(b) and a == b


def relative_difference(a: Any, b: Any) -> float:
    if not (isinstance(a, float) and isinstance(b, float)) or a == b or math.isnan(a):
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def first_difference(
    mart: str,
    columns: Sequence[str],
    duck_rows: Sequence[Sequence[Any]],
    pg_rows: Sequence[Sequence[Any]],
    floats: Sequence[int],
) -> str | None:
    """None if the two row sets are equal (after sorting on all columns), else a message
    naming the mart, the first differing row of each engine and the column."""
    if len(duck_rows) != len(pg_rows):
        return f"{mart}: {len(duck_rows)} rows on DuckDB, {len(pg_rows)} on PostgreSQL"
    duck = sorted(duck_rows, key=lambda r: _sort_key(r, floats))
    pg = sorted(pg_rows, key=lambda r: _sort_key(r, floats))
    for number, (d, p) in enumerate(zip(duck, pg, strict=True)):
        differing = [c for c, a, b in zip(columns, d, p, strict=True) if not _same(a, b)]
        if differing:
            return (
                f"{mart}: row {number} (sorted on all columns) differs in {differing}\n"
                f"  DuckDB:     {dict(zip(columns, d, strict=True))}\n"
                f"  PostgreSQL: {dict(zip(columns, p, strict=True))}"
            )
    return None


def _postgres_columns(cursor: Any, mart: str) -> list[tuple[str, str]]:
    cursor.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = %s order by ordinal_position",
        [mart],
    )
    return [(name, DUCKDB_TYPE.get(dtype, dtype)) for name, dtype in cursor.fetchall()]


def _duckdb_build_seconds(data_dir: Path) -> float | None:
    """The dbt build time the reference run printed (``  dbt build   98.8s  …``)."""
    stdout = data_dir.parent / "stdout.txt"
    found = (
        re.search(r"dbt build\s+([0-9.]+)s", stdout.read_text("utf-8")) if stdout.exists() else None
    )
    return float(found[1]) if found else None


# -- tests ----------------------------------------------------------------------------------------
def test_the_postgres_build_gives_every_mart_of_the_duckdb_build(
    one_snapshot_run: Path, database: str, record_property: Any
) -> None:
    loaded = load_lake(one_snapshot_run, database)
    assert {t.table for t in loaded} == {f"{LAKE_SCHEMA}.{t.identifier}" for t in source_tables()}
    done = build(one_snapshot_run, database)
    failed = {s: n for s, n in done.statuses.items() if s not in ("success", "pass", "no-op")}
    assert failed == {}, failed
    duckdb_seconds = _duckdb_build_seconds(one_snapshot_run)
    record_property("postgres_build_seconds", round(done.seconds, 1))
    record_property("duckdb_build_seconds", duckdb_seconds)
    print(
        f"dbt build: PostgreSQL {done.seconds:.1f}s, DuckDB (the reference run) {duckdb_seconds}s"
    )

    marts = set(mart_definitions())
    published = {p.stem for p in (one_snapshot_run / "published" / "marts").glob("*.parquet")}
    problems: list[str] = []
    rows = 0
    worst = 0.0
    with (
        duckdb.connect(str(warehouse_path(one_snapshot_run)), read_only=True) as duck,
        closing(psycopg2.connect(database)) as pg,
        pg.cursor() as cursor,
    ):
        in_duckdb = {
            name
            for (name,) in duck.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
        cursor.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        )
        in_postgres = {name for (name,) in cursor.fetchall()}
        assert in_postgres == in_duckdb == marts == published
        for mart in sorted(marts):
            columns = mart_columns(duck, mart)
            if _postgres_columns(cursor, mart) != columns:
                problems.append(
                    f"{mart}: columns differ\n  DuckDB:     {columns}\n"
                    f"  PostgreSQL: {_postgres_columns(cursor, mart)}"
                )
                continue
            names = [name for name, _ in columns]
            floats = [i for i, (_, dtype) in enumerate(columns) if dtype in ("DOUBLE", "FLOAT")]
            select = sql.SQL("select {} from {}").format(
                sql.SQL(", ").join(sql.Identifier(n) for n in names),
                sql.Identifier("marts", mart),
            )
            cursor.execute(select)
            pg_rows = cursor.fetchall()
            duck_rows = duck.execute(select.as_string(cursor)).fetchall()
            difference = first_difference(mart, names, duck_rows, pg_rows, floats)
            if difference:
                problems.append(difference)
                continue
            rows += len(duck_rows)
            for d, p in zip(
                sorted(duck_rows, key=lambda r: _sort_key(r, floats)),
                sorted(pg_rows, key=lambda r: _sort_key(r, floats)),
                strict=True,
            ):
                worst = max([worst, *(relative_difference(d[i], p[i]) for i in floats)])
    record_property("rows_compared", rows)
    record_property("max_float_relative_difference", worst)
    print(f"{len(marts)} marts, {rows} rows equal, largest float relative difference {worst:.3g}")
    assert not problems, "PostgreSQL marts differ from DuckDB's:\n" + "\n".join(problems)
    assert rows > 100_000


def test_the_loader_keeps_every_value_and_the_views_on_a_reload(
    tmp_path: Path, database: str
) -> None:
    """Empty text and NULL, quotes, line breaks, non-ASCII text, NaN and ±inf, extreme
    floats, dates and timestamps arrive as DuckDB reads them; a reload with the same
    columns truncates, so a view on the table survives."""
    partition = tmp_path / "normalized" / "probe" / "land=06" / "snapshot=2026-11-01"
    partition.mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(
            """copy (select * from (values
                ('', 0.1, true, date '2026-01-31', timestamp '2026-01-31 23:59:59.123456', 1),
                (null, 'nan'::double, false, null, null, -9007199254740993),
                ('a "b", c' || chr(10) || 'd', 'inf'::double, null, date '1900-01-01', null, 0),
                ('Gießen ✓ \\N', -'inf'::double, true, null, null, null),
                ('x', 5e-324, false, null, null, 2),
                ('y', 1.7976931348623157e308, false, null, null, 3),
                ('z', 0.30000000000000004, false, null, null, 4)
            ) t(text, number, flag, day, moment, count)) to ? (format parquet)""",
            [str(partition / "data.parquet")],
        )
        expected = con.execute(
            "select * from read_parquet(?, hive_partitioning = true, "
            "hive_types = {'land': VARCHAR, 'snapshot': DATE}, union_by_name = true)",
            [str(partition / "data.parquet")],
        ).fetchall()
    location = next(o for o in READS if "hive_types" in o)
    sources = tmp_path / "_sources.yml"
    sources.write_text(
        "sources:\n  - name: probe\n    schema: \"{{ 'lake' }}\"\n    tables:\n"
        "      - name: probe\n        identifier: \"{{ 'probe_probe' }}\"\n        meta:\n"
        "          external_location: \"read_parquet('{{ env_var('OZG_DATA_DIR_ABS', 'data') }}"
        f"/normalized/${{name}}/land=*/snapshot=*/data.parquet'{location})\"\n"
        "        columns: [{name: text, data_type: VARCHAR}]\n",
        "utf-8",
    )
    schema = f"t{uuid.uuid4().hex[:8]}_lake"
    (table,) = load_lake(tmp_path, database, sources_yml=sources, schema=schema)
    assert (table.table, table.rows, table.files) == (f"{schema}.probe_probe", 7, 1)
    assert dict(table.columns)["text"] == 'varchar collate "C"'
    with closing(psycopg2.connect(database)) as pg, pg.cursor() as cursor:
        relation = sql.Identifier(schema, "probe_probe")
        cursor.execute(
            sql.SQL("create view {} as select * from {}").format(
                sql.Identifier(schema, "probe_view"), relation
            )
        )
        pg.commit()
        load_lake(tmp_path, database, sources_yml=sources, schema=schema)
        cursor.execute(sql.SQL("select * from {}").format(sql.Identifier(schema, "probe_view")))
        got = cursor.fetchall()
        cursor.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))
        pg.commit()
    key = lambda row: repr(row)  # noqa: E731
    assert len(got) == len(expected) == 7
    for want, have in zip(sorted(expected, key=key), sorted(got, key=key), strict=True):
        assert all(
            (isinstance(a, float) and math.isnan(a) and math.isnan(b)) or a == b
            for a, b in zip(want, have, strict=True)
        ), (want, have)
    assert {row[0] for row in got} >= {"", None, 'a "b", c\nd', "Gießen ✓ \\N"}
    assert date(2026, 11, 1) in {row[-1] for row in got}  # the hive key snapshot


def test_a_difference_names_the_mart_and_the_first_differing_row() -> None:
    columns = ["ars", "quote"]
    same = first_difference(
        "m", columns, [("1", 0.1), ("2", 0.3)], [("2", 0.3 + 1e-17), ("1", 0.1)], [1]
    )
    assert same is None
    message = first_difference(
        "mart_x", columns, [("1", 0.1), ("2", 0.3)], [("1", 0.1), ("2", 0.4)], [1]
    )
    assert message is not None
    assert message.startswith("mart_x: row 1 (sorted on all columns) differs in ['quote']")
    assert "'quote': 0.3" in message and "'quote': 0.4" in message
    assert first_difference("m", columns, [("1", None)], [], [1]) == (
        "m: 1 rows on DuckDB, 0 on PostgreSQL"
    )
