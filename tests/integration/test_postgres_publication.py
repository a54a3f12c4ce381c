"""Publication of the marts to PostgreSQL (issue 15, item 2): every mart lands as it is in
the published DuckDB file, readers see one version or the other and never a mix, a failure
leaves the live schema as it was, the read-only role reads and cannot write, and without
``OZG_PUBLISH_POSTGRES_DSN`` nothing touches PostgreSQL.

The marts are small DuckDB files built here (no pipeline run); one slow test publishes the
reference run through the Dagster asset. The server is the suite's throwaway PostgreSQL
(``postgres_dsn``); each test owns a schema and roles named ``t<hex>…`` and drops them.
"""

from __future__ import annotations

import json
import math
import os
import random
import struct
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
import psycopg2
import pytest
from conftest import copy_run
from psycopg2 import sql
from psycopg2.extensions import make_dsn, parse_dsn

from pipelines.postgres import publish as pg_publish
from pipelines.postgres.publish import (
    METADATA_TABLE,
    PostgresPublicationError,
    PostgresTarget,
    publish_marts,
    target_from_env,
)
from pipelines.publication import inputs
from pipelines.publication.publish import publish

PASSWORD = "Geheim-PW-7f3e9a1c"  # the server trusts 127.0.0.1: a password is accepted unused


# -- helpers -------------------------------------------------------------------------------
def warehouse(path: Path, statements: list[str]) -> Path:
    """A DuckDB file with schema ``marts`` built by ``statements``."""
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        for statement in statements:
            con.execute(statement)
    return path


def connect(dsn: str, **overrides: str) -> psycopg2.extensions.connection:
    return psycopg2.connect(make_dsn(dsn, **overrides) if overrides else dsn)


@pytest.fixture
def admin(postgres_dsn: str) -> Iterator[psycopg2.extensions.connection]:
    conn = connect(postgres_dsn)
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.fixture
def target(postgres_dsn: str, admin: psycopg2.extensions.connection) -> Iterator[PostgresTarget]:
    """A schema and reader role of this test's own; everything named ``t<hex>…`` is dropped."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    dsn = make_dsn(postgres_dsn, password=PASSWORD)
    yield PostgresTarget(dsn=dsn, schema=f"{prefix}_marts", reader=f"{prefix}_leser")
    with admin.cursor() as cur:
        cur.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where usename like %s",
            [f"{prefix}%"],
        )
        cur.execute("select nspname from pg_namespace where starts_with(nspname, %s)", [prefix])
        for (schema,) in cur.fetchall():
            cur.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))
        cur.execute("select rolname from pg_roles where starts_with(rolname, %s)", [prefix])
        for (role,) in cur.fetchall():
            cur.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
            cur.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def run_publication(database: Path, target: PostgresTarget, publication_id: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    return publish_marts(
        database,
        target,
        publication_id=publication_id,
        built_at=datetime.now(UTC),
        mode="sample",
        **kwargs,
    )


def pg_state(conn: psycopg2.extensions.connection, schema: str) -> dict[str, Any]:
    """Everything a reader can tell about ``schema``: its tables with their oids, column
    types, privileges, indexes and every row (sorted), and the schema comment."""
    state: dict[str, Any] = {}
    with conn.cursor() as cur:
        cur.execute(
            "select obj_description(oid, 'pg_namespace'), nspacl::text from pg_namespace "
            "where nspname = %s",
            [schema],
        )
        state["schema"] = cur.fetchall()
        cur.execute(
            "select c.relname, c.oid::bigint, c.relacl::text from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace where n.nspname = %s "
            "order by c.relname",
            [schema],
        )
        state["relations"] = cur.fetchall()
        cur.execute(
            "select table_name, column_name, data_type, is_nullable from "
            "information_schema.columns where table_schema = %s order by 1, ordinal_position",
            [schema],
        )
        state["columns"] = cur.fetchall()
        for (table,) in {(r[0],) for r in state["columns"]}:
            cur.execute(sql.SQL("select * from {}").format(sql.Identifier(schema, table)))
            state[f"rows {table}"] = sorted(cur.fetchall(), key=repr)
    conn.commit()
    return state


def next_schemas(conn: psycopg2.extensions.connection, target: PostgresTarget) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(
            "select nspname from pg_namespace where starts_with(nspname, %s)",
            [target.schema + "__"],
        )
        found = [row[0] for row in cur.fetchall()]
    conn.commit()
    return found


# -- 1. every mart lands with the same rows, columns and types -----------------------------
TYPES_TABLE = """
create table marts.mart_typen (
    id integer not null, s varchar, b boolean, ti tinyint, si smallint, i integer, bi bigint,
    hi hugeint, ut utinyint, us usmallint, ui uinteger, ub ubigint, f float, d double,
    dec decimal(18,3), dec38 decimal(38,10), dt date, tm time, ts timestamp,
    tstz timestamp with time zone, u uuid, lv varchar[], li integer[],
    st struct(a integer, b varchar)
)
"""
TEXTS = [
    "",
    None,
    "ä ö ü ß € – „Anführung“ 🙂",
    "a;b,c",
    'q"uote',
    "it's",
    "back\\slash",
    "\\.",
    "\\N",
    "NULL",
    "line\nbreak",
    "cr\r\nlf",
    "\ttab ",
    " leading",
    "x" * 100_000,
]
DOUBLES = [
    0.1,
    1 / 3,
    -0.0,
    0.0,
    5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    math.nan,
    math.inf,
    -math.inf,
    123456789.123456789,
    None,
]


def _types_rows() -> list[tuple[Any, ...]]:
    rows = []
    for n in range(max(len(TEXTS), len(DOUBLES))):
        edge = n % 3 == 0
        rows.append(
            (
                n,
                TEXTS[n % len(TEXTS)],
                [True, False, None][n % 3],
                -128 if edge else 127,
                -32768 if edge else n,
                -2147483648 if edge else 2147483647,
                -9223372036854775808 if edge else 9223372036854775807,
                -(2**126) if edge else 2**100 + n,
                255 if edge else 0,
                65535 if edge else n,
                4294967295 if edge else n,
                18446744073709551615 if edge else n,
                0.1 * n if n % 4 else None,
                DOUBLES[n % len(DOUBLES)],
                Decimal("-999999999999999.999") if edge else Decimal(f"{n}.125"),
                Decimal("1234567890123456789012345678.0123456789") if edge else None,
                date(1, 1, 1) if edge else date(2026, 11, 1 + n % 28),
                f"23:59:59.{n:06d}",
                f"2026-11-01 12:34:56.{n:06d}" if n % 5 else "1970-01-01 00:00:00",
                f"2026-03-29 0{n % 10}:30:00+02",
                str(uuid.UUID(int=n * 7919)),
                [None, 'a"b', "c,d", ""] if edge else ([] if n % 2 else None),
                [n, None, -1],
                {"a": n, "b": TEXTS[(n + 1) % len(TEXTS)]} if n % 2 else None,
            )
        )
    return rows


EXPECTED_PG_TYPES = {
    "id": "integer",
    "s": "text",
    "b": "boolean",
    "ti": "smallint",
    "si": "smallint",
    "i": "integer",
    "bi": "bigint",
    "hi": "numeric",
    "ut": "smallint",
    "us": "integer",
    "ui": "bigint",
    "ub": "numeric",
    "f": "real",
    "d": "double precision",
    "dec": "numeric(18,3)",
    "dec38": "numeric(38,10)",
    "dt": "date",
    "tm": "time without time zone",
    "ts": "timestamp without time zone",
    "tstz": "timestamp with time zone",
    "u": "uuid",
    "lv": "jsonb",
    "li": "jsonb",
    "st": "jsonb",
}


def normalise(value: Any, column_type: str) -> Any:
    """A value from DuckDB or psycopg2 in one comparable form (floats by their bits)."""
    if value is None:
        return None
    if column_type == "real":  # a FLOAT: DuckDB gives it widened, PostgreSQL as written
        value = struct.unpack("f", struct.pack("f", value))[0]
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else value.hex())
    if isinstance(value, int | Decimal):
        return ("number", str(Decimal(value).normalize()))
    if isinstance(value, datetime):
        return ("datetime", (value.astimezone(UTC) if value.tzinfo else value).isoformat())
    if isinstance(value, date):
        return ("date", value.isoformat())
    if isinstance(value, list | dict):
        return ("json", json.dumps(value, sort_keys=True))
    return (type(value).__name__ if not isinstance(value, uuid.UUID) else "str", str(value))


def duckdb_rows(database: Path, mart: str, types: list[str]) -> Counter[tuple[Any, ...]]:
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(f'select * from marts."{mart}"').fetchall()
    return Counter(tuple(normalise(v, t) for v, t in zip(row, types, strict=True)) for row in rows)


def pg_rows(conn: Any, schema: str, mart: str, types: list[str]) -> Counter[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql.SQL("select * from {}").format(sql.Identifier(schema, mart)))
        rows = cur.fetchall()
    conn.commit()
    return Counter(tuple(normalise(v, t) for v, t in zip(row, types, strict=True)) for row in rows)


def pg_columns(conn: Any, schema: str, mart: str) -> list[tuple[str, str, bool]]:
    with conn.cursor() as cur:
        cur.execute(
            "select a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull "
            "from pg_attribute a where a.attrelid = to_regclass(%s) and a.attnum > 0 "
            "and not a.attisdropped order by a.attnum",
            [sql.Identifier(schema, mart).as_string(conn)],
        )
        found = cur.fetchall()
    conn.commit()
    return found


@pytest.mark.postgres
def test_every_mart_lands_with_the_same_columns_types_and_values(
    tmp_path: Path, target: PostgresTarget, admin: Any
) -> None:
    rng = random.Random(15)
    big = [
        (f"06{n:010d}", rng.random() * 10 ** rng.randint(-5, 5), rng.choice(["a", "b", ""]))
        for n in range(20_000)
    ]
    database = warehouse(
        tmp_path / "w.duckdb",
        [
            TYPES_TABLE,
            "create table marts.mart_gross (ars varchar, quote double, klasse varchar)",
            "create table marts.mart_leer (snapshot_date date, ars varchar)",
            "create schema staging",
            "create table staging.not_a_mart (x integer)",
            "create view marts.not_a_table as select 1 as x",
        ],
    )
    with duckdb.connect(str(database)) as con:
        con.executemany(
            f"insert into marts.mart_typen values ({', '.join(['?'] * 24)})", _types_rows()
        )
        frame = pl.DataFrame(big, schema=["ars", "quote", "klasse"], orient="row")
        con.register("frame", frame)
        con.execute("insert into marts.mart_gross select * from frame")

    result = run_publication(database, target, "v1")

    assert result.marts == {"mart_gross": 20_000, "mart_leer": 0, "mart_typen": len(_types_rows())}
    assert (result.schema, result.server) == (target.schema, target.server)
    with admin.cursor() as cur:
        cur.execute(
            "select table_name from information_schema.tables where table_schema = %s order by 1",
            [target.schema],
        )
        assert [r[0] for r in cur.fetchall()] == [METADATA_TABLE, *sorted(result.marts)]
        cur.execute(
            sql.SQL("select mart, row_count, publication_id, mode, sample from {}").format(
                sql.Identifier(target.schema, METADATA_TABLE)
            )
        )
        assert sorted(cur.fetchall()) == [
            (mart, rows, "v1", "sample", True) for mart, rows in sorted(result.marts.items())
        ]
    columns = pg_columns(admin, target.schema, "mart_typen")
    assert {name: kind for name, kind, _ in columns} == EXPECTED_PG_TYPES
    assert [name for name, _, _ in columns] == list(EXPECTED_PG_TYPES)  # column order kept
    assert [name for name, _, not_null in columns if not_null] == ["id"]
    for mart in result.marts:
        types = [kind for _, kind, _ in pg_columns(admin, target.schema, mart)]
        expected = duckdb_rows(database, mart, types)
        assert pg_rows(admin, target.schema, mart, types) == expected, mart
        assert sum(expected.values()) == result.marts[mart]
    # The comparison itself tells the edge values apart.
    assert normalise(-0.0, "double precision") != normalise(0.0, "double precision")
    assert normalise("", "text") != normalise(None, "text")
    with admin.cursor() as cur:  # the filter columns are indexed
        cur.execute("select indexdef from pg_indexes where schemaname = %s", [target.schema])
        indexes = " ".join(r[0] for r in cur.fetchall())
    assert "mart_gross USING btree (ars)" in indexes
    assert "mart_leer USING btree (snapshot_date)" in indexes


def test_a_type_without_a_faithful_postgres_type_is_refused_before_connecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = warehouse(
        tmp_path / "w.duckdb", ["create table marts.mart_blob (ars varchar, roh blob)"]
    )
    monkeypatch.setattr(psycopg2, "connect", _never)
    target = PostgresTarget(dsn=f"postgresql://ozg:{PASSWORD}@127.0.0.1:9/ozg")
    with pytest.raises(
        PostgresPublicationError, match="mart mart_blob: column roh has the DuckDB type BLOB"
    ):
        run_publication(database, target, "v1")


def _never(*args: object, **kwargs: object) -> None:
    raise AssertionError("PostgreSQL was contacted")


# -- 2. the swap: one version or the other, never a mix --------------------------------------
def version_statements(publication_id: str, marts: dict[str, int], *, extra: str) -> list[str]:
    """Marts whose every row carries ``version = publication_id``."""
    return [
        f"create table marts.{mart} as select '{publication_id}' as version, range as n, "
        f"'06' || lpad(range::varchar, 10, '0') as ars from range({rows})"
        for mart, rows in {**marts, extra: 3}.items()
    ]


class Reader(threading.Thread):
    """Reads the metadata, then every mart it lists, in one READ COMMITTED transaction (with
    a pause between statements), over and over; records the versions and every mix."""

    def __init__(self, dsn: str, schema: str, pause: float, gap: float = 0.0) -> None:
        super().__init__(daemon=True)
        self.dsn, self.schema, self.pause, self.gap = dsn, schema, pause, gap
        self.seen: list[str] = []
        self.problems: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        conn = connect(self.dsn)
        try:
            while not self.stop.is_set():
                try:
                    self.read_once(conn)
                except psycopg2.Error as error:
                    conn.rollback()
                    self.problems.append(f"error: {type(error).__name__}: {error}")
                time.sleep(self.gap)
        finally:
            conn.close()

    def read_once(self, conn: Any) -> None:
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("select publication_id, mart, row_count from {}").format(
                    sql.Identifier(self.schema, METADATA_TABLE)
                )
            )
            listed = cur.fetchall()
            versions = {row[0] for row in listed}
            if len(versions) != 1:
                self.problems.append(f"metadata of several versions: {versions}")
                conn.rollback()
                return
            (version,) = versions
            for _, mart, rows in sorted(listed, key=lambda row: row[1]):
                time.sleep(self.pause)
                cur.execute(
                    sql.SQL("select version, count(*) from {} group by version").format(
                        sql.Identifier(self.schema, mart)
                    )
                )
                found = cur.fetchall()
                if found != [(version, rows)]:
                    self.problems.append(f"{version}: {mart} has {found}, metadata {rows}")
        conn.commit()
        self.seen.append(version)


class StatementReader(Reader):
    """One statement over the marts every version has and the metadata (autocommit)."""

    def read_once(self, conn: Any) -> None:
        conn.autocommit = True
        parts = [
            sql.SQL("select {}, version, count(*) from {} group by version").format(
                sql.Literal(mart), sql.Identifier(self.schema, mart)
            )
            for mart in ("mart_a", "mart_b")
        ]
        parts.append(
            sql.SQL("select 'meta', publication_id, count(*) from {} group by 2").format(
                sql.Identifier(self.schema, METADATA_TABLE)
            )
        )
        with conn.cursor() as cur:
            cur.execute(sql.SQL(" union all ").join(parts))
            found = cur.fetchall()
        versions = {row[1] for row in found}
        if len(versions) != 1 or len(found) != 3:
            self.problems.append(f"one statement saw {found}")
            return
        self.seen.append(versions.pop())


@pytest.mark.postgres
def test_readers_see_one_whole_version_during_publications(
    tmp_path: Path, target: PostgresTarget, postgres_dsn: str
) -> None:
    versions = {
        "v1": ({"mart_a": 100, "mart_b": 10}, "mart_nur_v1"),
        "v2": ({"mart_a": 200, "mart_b": 20}, "mart_nur_v2"),
        "v3": ({"mart_a": 300, "mart_b": 30}, "mart_nur_v3"),
        "v4": ({"mart_a": 400, "mart_b": 40}, "mart_nur_v4"),
    }
    files = {
        version: warehouse(
            tmp_path / f"{version}.duckdb", version_statements(version, marts, extra=extra)
        )
        for version, (marts, extra) in versions.items()
    }
    run_publication(files["v1"], target, "v1")
    # Two lock orders: the transactions read the metadata first, the statement reads it
    # last. Readers that loop with no pause at all in crossing orders can keep any swap
    # from its locks for a while (it gives up each time, they never wait long; see the
    # module docstring of pipelines/postgres/publish.py); a dashboard pauses.
    readers = [
        Reader(postgres_dsn, target.schema, pause=0.002, gap=0.002),
        Reader(postgres_dsn, target.schema, pause=0.0, gap=0.002),
        StatementReader(postgres_dsn, target.schema, pause=0.0, gap=0.005),
    ]
    for reader in readers:
        reader.start()
    try:
        deadline = time.monotonic() + 10
        while not all(reader.seen for reader in readers) and time.monotonic() < deadline:
            time.sleep(0.01)
        attempts = []
        for version in ("v2", "v3", "v4"):
            before = [len(reader.seen) for reader in readers]
            attempts.append(run_publication(files[version], target, version))
            # The readers kept reading while the publication ran.
            assert all(len(r.seen) > n for r, n in zip(readers, before, strict=True))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(
            reader.seen and reader.seen[-1] == "v4" for reader in readers
        ):
            time.sleep(0.01)
    finally:
        for reader in readers:
            reader.stop.set()
        for reader in readers:
            reader.join(10)
    for reader in readers:
        assert reader.problems == [], reader.problems[:5]
        assert reader.seen[0] == "v1" and reader.seen[-1] == "v4", "never saw the new version"
        # Versions only move forward: no reader ever went back to an older one.
        order = [v for i, v in enumerate(reader.seen) if i == 0 or reader.seen[i - 1] != v]
        assert order == sorted(order) and len(order) == len(set(order))
    assert [a.publication_id for a in attempts] == ["v2", "v3", "v4"]


@pytest.mark.postgres
def test_a_reader_transaction_keeps_its_version_until_it_ends(
    tmp_path: Path, target: PostgresTarget, postgres_dsn: str, admin: Any
) -> None:
    """The swap waits for a transaction that read a live mart; that transaction reads the
    old version of every other mart too, the next one the new version."""
    v1 = warehouse(tmp_path / "v1.duckdb", version_statements("v1", {"mart_a": 5}, extra="mart_b"))
    v2 = warehouse(tmp_path / "v2.duckdb", version_statements("v2", {"mart_a": 7}, extra="mart_b"))
    run_publication(v1, target, "v1")
    reader = connect(postgres_dsn)
    cur = reader.cursor()

    def versions(mart: str) -> list[tuple[str, int]]:
        cur.execute(
            sql.SQL("select version, count(*) from {} group by 1").format(
                sql.Identifier(target.schema, mart)
            )
        )
        return cur.fetchall()

    assert versions("mart_a") == [("v1", 5)]  # the transaction now holds mart_a
    outcome: list[object] = []
    publisher = threading.Thread(
        target=lambda: outcome.append(run_publication(v2, target, "v2", swap_timeout=30))
    )
    publisher.start()
    try:
        waiting = wait_for(lambda: publisher_waits_for_a_lock(admin), seconds=20)
        assert waiting, "the swap did not wait for the reader"
        assert versions("mart_b") == [("v1", 3)]  # still the old version of another mart
        cur.execute(
            sql.SQL("select distinct publication_id from {}").format(
                sql.Identifier(target.schema, METADATA_TABLE)
            )
        )
        assert cur.fetchall() == [("v1",)]
        assert not outcome and publisher.is_alive()
    finally:
        reader.commit()
        publisher.join(30)
    assert outcome and outcome[0].publication_id == "v2"  # type: ignore[attr-defined]
    assert versions("mart_a") == [("v2", 7)] and versions("mart_b") == [("v2", 3)]
    reader.close()


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def publisher_waits_for_a_lock(admin: Any) -> bool:
    with admin.cursor() as cur:
        cur.execute(
            "select count(*) from pg_stat_activity where application_name = %s "
            "and wait_event_type = 'Lock'",
            [pg_publish.APPLICATION_NAME],
        )
        return bool(cur.fetchone()[0])


@pytest.mark.postgres
def test_renaming_a_schema_alone_would_mix_versions(
    target: PostgresTarget, admin: Any, postgres_dsn: str
) -> None:
    """Why the swap locks the live tables: ALTER SCHEMA … RENAME takes no lock on the
    tables in the schema, so it does not wait for a reader, and the reader's next statement
    – in the same transaction – resolves its names to the other schema."""
    old, new = f"{target.schema}", f"{target.schema}__probe"
    with admin.cursor() as cur:
        for schema, version in ((old, "v1"), (new, "v2")):
            cur.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
            for table in ("a", "b"):
                cur.execute(
                    sql.SQL("create table {} as select %s::text as version").format(
                        sql.Identifier(schema, table)
                    ),
                    [version],
                )
    reader = connect(postgres_dsn)
    rcur = reader.cursor()
    rcur.execute(sql.SQL("select version from {}").format(sql.Identifier(old, "a")))
    assert rcur.fetchall() == [("v1",)]
    swapper = connect(postgres_dsn)
    with swapper.cursor() as cur:
        cur.execute("set lock_timeout = '2s'")  # would fail if the renames waited for the reader
        cur.execute(
            sql.SQL("alter schema {} rename to {}").format(
                sql.Identifier(old), sql.Identifier(f"{old}__gone")
            )
        )
        cur.execute(
            sql.SQL("alter schema {} rename to {}").format(sql.Identifier(new), sql.Identifier(old))
        )
    swapper.commit()
    rcur.execute(sql.SQL("select version from {}").format(sql.Identifier(old, "b")))
    assert rcur.fetchall() == [("v2",)]  # same transaction, the other version: a mix
    reader.commit()
    reader.close()
    swapper.close()


# -- 3. a failure leaves the live schema as it was --------------------------------------------
@pytest.mark.postgres
def test_a_mart_that_cannot_be_copied_leaves_everything_as_it_was(
    tmp_path: Path, target: PostgresTarget, admin: Any
) -> None:
    """Through the local publication: PostgreSQL rejects a NUL byte in the last mart, after
    the others were copied. The live schema (oids, privileges, rows) and the local
    ``current`` stay as they were, the error names the mart and never the password."""
    data_dir = tmp_path / "data"
    good = [
        "create table marts.mart_a as select range as n, 'x' as s from range(50)",
        "create table marts.mart_b as select range as n from range(5)",
    ]
    first = publish(
        warehouse(tmp_path / "v1.duckdb", good), data_dir, mode="sample", postgres=target
    )
    assert first.postgres is not None and first.postgres.marts == {"mart_a": 50, "mart_b": 5}
    current = os.readlink(data_dir / "published" / "current")
    assert current.endswith(first.publication_id)
    before = pg_state(admin, target.schema)
    assert before["relations"] and before["rows _publication"][0][0] == first.publication_id
    versions_before = sorted(os.listdir(data_dir / "published" / ".versions"))

    bad = warehouse(
        tmp_path / "v2.duckdb",
        [
            "create table marts.mart_a as select range as n, 'y' as s from range(70)",
            "create table marts.mart_b as select range as n from range(6)",
            "create table marts.mart_z as select 'a' || chr(0) || 'b' as text_mit_nul",
        ],
    )
    with pytest.raises(PostgresPublicationError) as caught:
        publish(bad, data_dir, mode="sample", postgres=target)
    message = str(caught.value)
    assert "mart mart_z" in message and target.describe() in message
    assert "previous publication stays live" in message
    assert PASSWORD not in message and PASSWORD not in repr(caught.value.__cause__)

    assert pg_state(admin, target.schema) == before
    assert next_schemas(admin, target) == []
    assert os.readlink(data_dir / "published" / "current") == current
    assert sorted(os.listdir(data_dir / "published" / ".versions")) == versions_before


@pytest.mark.postgres
def test_an_injected_failure_in_the_middle_leaves_the_live_schema_as_it_was(
    tmp_path: Path, target: PostgresTarget, admin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    marts = [f"create table marts.mart_{c} as select range as n from range(9)" for c in "abcd"]
    database = warehouse(tmp_path / "w.duckdb", marts)
    run_publication(database, target, "v1")
    before = pg_state(admin, target.schema)
    exported: list[str] = []
    real_export = pg_publish.export_csv

    def failing_export(con: duckdb.DuckDBPyConnection, mart: pg_publish.Mart, path: Path) -> None:
        if len(exported) == 2:
            raise duckdb.IOException("injected: disk gone")
        exported.append(mart.name)
        real_export(con, mart, path)

    monkeypatch.setattr(pg_publish, "export_csv", failing_export)
    with pytest.raises(
        PostgresPublicationError, match="mart mart_c: reading it from DuckDB failed"
    ):
        run_publication(database, target, "v2")
    assert exported == ["mart_a", "mart_b"]  # two marts were in the new schema already
    assert pg_state(admin, target.schema) == before
    assert next_schemas(admin, target) == []


@pytest.mark.postgres
def test_a_reader_that_keeps_its_transaction_open_fails_the_swap_not_the_schema(
    tmp_path: Path, target: PostgresTarget, postgres_dsn: str, admin: Any
) -> None:
    database = warehouse(tmp_path / "w.duckdb", ["create table marts.mart_a as select 1 as n"])
    run_publication(database, target, "v1")
    before = pg_state(admin, target.schema)
    idle = connect(postgres_dsn)
    with idle.cursor() as cur:  # and then "idle in transaction"
        cur.execute(sql.SQL("select * from {}").format(sql.Identifier(target.schema, "mart_a")))
    started = time.monotonic()
    with pytest.raises(PostgresPublicationError, match="idle in transaction") as caught:
        run_publication(database, target, "v2", swap_timeout=1.5)
    assert 1.5 <= time.monotonic() - started < 10
    assert "previous publication stays live" in str(caught.value)
    idle.commit()  # its transaction saw v1 throughout
    idle.close()
    assert pg_state(admin, target.schema) == before
    assert next_schemas(admin, target) == []
    assert run_publication(database, target, "v3").publication_id == "v3"


@pytest.mark.postgres
def test_a_view_built_on_a_mart_fails_the_swap_instead_of_vanishing(
    tmp_path: Path, target: PostgresTarget, admin: Any
) -> None:
    database = warehouse(tmp_path / "w.duckdb", ["create table marts.mart_a as select 1 as n"])
    run_publication(database, target, "v1")
    views = f"{target.schema}_eigene_sichten"
    with admin.cursor() as cur:
        cur.execute(sql.SQL("create schema {}").format(sql.Identifier(views)))
        cur.execute(
            sql.SQL("create view {} as select n from {}").format(
                sql.Identifier(views, "sicht"), sql.Identifier(target.schema, "mart_a")
            )
        )
    before = pg_state(admin, target.schema)
    with pytest.raises(PostgresPublicationError, match="other objects depend on its tables"):
        run_publication(database, target, "v2")
    assert pg_state(admin, target.schema) == before
    assert next_schemas(admin, target) == []
    with admin.cursor() as cur:
        cur.execute(sql.SQL("select n from {}").format(sql.Identifier(views, "sicht")))
        assert cur.fetchall() == [(1,)]


@pytest.mark.postgres
def test_leftovers_of_a_killed_publication_are_dropped_and_foreign_schemas_left_alone(
    tmp_path: Path, target: PostgresTarget, admin: Any
) -> None:
    database = warehouse(tmp_path / "w.duckdb", ["create table marts.mart_a as select 1 as n"])
    with admin.cursor() as cur:
        # A schema of the same name that is no publication: refused, untouched.
        cur.execute(sql.SQL("create schema {}").format(sql.Identifier(target.schema)))
        cur.execute(
            sql.SQL("create table {} (x int)").format(sql.Identifier(target.schema, "fremd"))
        )
    with pytest.raises(PostgresPublicationError, match="no _publication table"):
        run_publication(database, target, "v1")
    assert [r[0] for r in pg_state(admin, target.schema)["relations"]] == ["fremd"]
    with admin.cursor() as cur:
        cur.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(target.schema)))
        # What a process killed between build and swap leaves: a committed next schema.
        leftover = f"{target.schema}__next_deadbeef"
        cur.execute(sql.SQL("create schema {}").format(sql.Identifier(leftover)))
        cur.execute(sql.SQL("create table {} (x int)").format(sql.Identifier(leftover, "m")))
    run_publication(database, target, "v1")
    assert next_schemas(admin, target) == []


# -- 4. the read-only role ---------------------------------------------------------------------
@pytest.mark.postgres
def test_the_reader_role_can_select_and_cannot_write_or_create(
    tmp_path: Path, target: PostgresTarget, postgres_dsn: str, admin: Any
) -> None:
    first = warehouse(tmp_path / "v1.duckdb", ["create table marts.mart_a as select 1 as n"])
    run_publication(first, target, "v1")
    login = f"{target.reader}_bi"
    with admin.cursor() as cur:
        cur.execute("select rolcanlogin from pg_roles where rolname = %s", [target.reader])
        assert cur.fetchall() == [(False,)]  # created as a group role
        cur.execute(
            sql.SQL("create role {} login in role {}").format(
                sql.Identifier(login), sql.Identifier(target.reader)
            )
        )
    bi = connect(postgres_dsn, user=login)
    bi.autocommit = True

    def refused(statement: sql.Composable) -> bool:
        with bi.cursor() as cur:
            try:
                cur.execute(statement)
            except psycopg2.errors.InsufficientPrivilege:
                return True
        return False

    def select(mart: str) -> list[tuple[Any, ...]]:
        with bi.cursor() as cur:
            cur.execute(sql.SQL("select * from {}").format(sql.Identifier(target.schema, mart)))
            return cur.fetchall()

    assert select("mart_a") == [(1,)]
    assert select(METADATA_TABLE)[0][0] == "v1"
    mart_a = sql.Identifier(target.schema, "mart_a")
    assert refused(sql.SQL("insert into {} values (2)").format(mart_a))
    assert refused(sql.SQL("update {} set n = 3").format(mart_a))
    assert refused(sql.SQL("delete from {}").format(mart_a))
    assert refused(sql.SQL("truncate {}").format(mart_a))
    assert refused(sql.SQL("drop table {}").format(mart_a))
    assert refused(
        sql.SQL("create table {} (x int)").format(sql.Identifier(target.schema, "eigen"))
    )
    assert refused(sql.SQL("alter schema {} rename to x").format(sql.Identifier(target.schema)))
    assert refused(sql.SQL("create schema {}").format(sql.Identifier(f"{login}_s")))

    # A new version: new tables, granted again; the login needs nothing but a reconnect…
    second = warehouse(
        tmp_path / "v2.duckdb",
        [
            "create table marts.mart_a as select 2 as n",
            "create table marts.mart_b as select 3 as n",
        ],
    )
    run_publication(second, target, "v2")
    assert select("mart_a") == [(2,)] and select("mart_b") == [(3,)]  # … not even that
    assert refused(
        sql.SQL("insert into {} values (4)").format(sql.Identifier(target.schema, "mart_b"))
    )
    bi.close()


@pytest.mark.postgres
def test_a_publisher_without_superuser_rights_needs_create_on_the_database_only(
    tmp_path: Path, target: PostgresTarget, postgres_dsn: str, admin: Any
) -> None:
    publisher = f"{target.reader}_pub"
    database_name = parse_dsn(postgres_dsn)["dbname"]
    with admin.cursor() as cur:
        cur.execute(sql.SQL("create role {} login").format(sql.Identifier(publisher)))
        cur.execute(
            sql.SQL("grant create on database {} to {}").format(
                sql.Identifier(database_name), sql.Identifier(publisher)
            )
        )
    as_publisher = PostgresTarget(
        dsn=make_dsn(target.dsn, user=publisher), schema=target.schema, reader=target.reader
    )
    database = warehouse(tmp_path / "w.duckdb", ["create table marts.mart_a as select 1 as n"])
    # The reader role is missing, and this login may not create roles: a clear message.
    with pytest.raises(PostgresPublicationError, match=f"CREATE ROLE {target.reader} NOLOGIN"):
        run_publication(database, as_publisher, "v1")
    with admin.cursor() as cur:
        cur.execute(sql.SQL("create role {} nologin").format(sql.Identifier(target.reader)))
    run_publication(database, as_publisher, "v1")
    run_publication(database, as_publisher, "v2")
    with admin.cursor() as cur:
        cur.execute(
            "select has_table_privilege(%s, %s, 'SELECT'), "
            "has_table_privilege(%s, %s, 'INSERT'), has_schema_privilege(%s, %s, 'CREATE')",
            [target.reader, f"{target.schema}.mart_a"] * 2 + [target.reader, target.schema],
        )
        assert cur.fetchone() == (True, False, False)
        cur.execute(
            sql.SQL("revoke create on database {} from {}").format(
                sql.Identifier(database_name), sql.Identifier(publisher)
            )
        )


# -- 5. without the DSN nothing touches PostgreSQL; the target is part of the inputs ---------
def small_run(data_dir: Path) -> Path:
    """A data directory with a dbt warehouse (``warehouse/ozg.duckdb``) to publish."""
    (data_dir / "warehouse").mkdir(parents=True)
    return warehouse(
        data_dir / "warehouse" / "ozg.duckdb",
        ["create table marts.mart_a as select range as n, '06' as land from range(4)"],
    )


def materialize_publication(data_dir: Path) -> tuple[dg.ExecuteInProcessResult, list[str]]:
    """The ``published/warehouse`` asset as a run materialises it; its result and every
    message of its event log."""
    from pipelines.defs.publish import published_warehouse
    from pipelines.resources import OzgSettings

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [published_warehouse],
            resources={"ozg": OzgSettings(data_dir=str(data_dir))},
            instance=instance,
            raise_on_error=False,
        )
        messages = [
            f"{entry.user_message} {entry.dagster_event}"
            for entry in instance.all_logs(result.run_id)
        ]
    return result, messages


def clear_postgres_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (pg_publish.DSN_VARIABLE, pg_publish.SCHEMA_VARIABLE, pg_publish.READER_VARIABLE):
        monkeypatch.delenv(name, raising=False)


def test_without_the_dsn_nothing_touches_postgres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_postgres_environment(monkeypatch)
    monkeypatch.setenv("OZG_PUBLISH_POSTGRES_SCHEMA", "anderes_schema")  # alone: no effect
    monkeypatch.setattr(psycopg2, "connect", _never)
    data_dir = tmp_path / "data"
    small_run(data_dir)
    assert target_from_env() is None

    result, _ = materialize_publication(data_dir)

    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert "postgres_server" not in metadata and "postgres_schema" not in metadata
    manifest = json.loads((data_dir / "published" / "marts" / "_published.json").read_text("utf-8"))
    assert manifest["postgres"] is None and manifest["marts"] == {"mart_a": 4}


def test_the_postgres_target_is_part_of_the_publication_inputs_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_postgres_environment(monkeypatch)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    # An empty stand-in for the code: other edits to the repository do not move the inputs.
    (tmp_path / "repo").mkdir()
    monkeypatch.setattr(inputs, "ROOT", tmp_path / "repo")

    def inputs_with(**variables: str) -> str:
        clear_postgres_environment(monkeypatch)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        return inputs.publication_inputs(data_dir, "sample")

    dsn = f"postgresql://bi:{PASSWORD}@db.example:5432/ozg"
    unset = inputs_with()
    assert inputs_with(OZG_PUBLISH_POSTGRES_SCHEMA="x", OZG_PUBLISH_POSTGRES_READER="y") == unset
    with_dsn = inputs_with(OZG_PUBLISH_POSTGRES_DSN=dsn)
    assert with_dsn != unset
    # Another password is the same target; another host, database, schema or role is not.
    assert inputs_with(OZG_PUBLISH_POSTGRES_DSN=dsn.replace(PASSWORD, "anders")) == with_dsn
    assert inputs_with(OZG_PUBLISH_POSTGRES_DSN=dsn.replace("db.example", "db2")) != with_dsn
    assert inputs_with(OZG_PUBLISH_POSTGRES_DSN=dsn.replace("/ozg", "/bi")) != with_dsn
    others = {
        inputs_with(OZG_PUBLISH_POSTGRES_DSN=dsn, OZG_PUBLISH_POSTGRES_SCHEMA="ozg_bi"),
        inputs_with(OZG_PUBLISH_POSTGRES_DSN=dsn, OZG_PUBLISH_POSTGRES_READER="bi_leser"),
    }
    assert len(others) == 2 and with_dsn not in others
    # What is shown of the target: host, port, database, schema.
    target = PostgresTarget(dsn=dsn)
    assert target.describe() == "db.example:5432/ozg schema ozg_marts"
    assert PASSWORD not in target.fingerprint() and PASSWORD not in repr(target)
    keyword_form = PostgresTarget(dsn=f"host=db.example dbname=ozg user=bi password={PASSWORD}")
    assert keyword_form.fingerprint() == target.fingerprint().replace(" port=5432", "")
    # A malformed DSN or a dangerous schema name fails early, without the DSN in the message.
    with pytest.raises(PostgresPublicationError) as caught:
        PostgresTarget(dsn=f"host=db password={PASSWORD} kaputt")
    assert PASSWORD not in str(caught.value) and "OZG_PUBLISH_POSTGRES_DSN" in str(caught.value)
    for schema in ("public", "pg_x", "Gross", "a-b", "x" * 41, "information_schema"):
        with pytest.raises(PostgresPublicationError, match="OZG_PUBLISH_POSTGRES_SCHEMA"):
            PostgresTarget(dsn=dsn, schema=schema)


@pytest.mark.postgres
def test_the_asset_publishes_to_postgres_without_leaking_the_password(
    tmp_path: Path, target: PostgresTarget, monkeypatch: pytest.MonkeyPatch, admin: Any
) -> None:
    clear_postgres_environment(monkeypatch)
    monkeypatch.setenv("OZG_PUBLISH_POSTGRES_DSN", target.dsn)
    monkeypatch.setenv("OZG_PUBLISH_POSTGRES_SCHEMA", target.schema)
    monkeypatch.setenv("OZG_PUBLISH_POSTGRES_READER", target.reader)
    assert PASSWORD in target.dsn
    data_dir = tmp_path / "data"
    small_run(data_dir)

    result, logs = materialize_publication(data_dir)

    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = {k: v.value for k, v in event.materialization.metadata.items()}
    assert metadata["postgres_server"] == target.server
    assert metadata["postgres_schema"] == target.schema
    manifest = json.loads((data_dir / "published" / "marts" / "_published.json").read_text("utf-8"))
    assert manifest["postgres"] == target.describe()
    with admin.cursor() as cur:
        cur.execute(
            sql.SQL("select distinct publication_id from {}").format(
                sql.Identifier(target.schema, METADATA_TABLE)
            )
        )
        assert cur.fetchall() == [(manifest["publication_id"],)] == [(metadata["publication_id"],)]
    assert any(f"{target.describe()}: publication" in line for line in logs)  # it logs …
    assert not [line for line in logs if PASSWORD in line]  # … never the password
    files = [p for p in data_dir.rglob("*") if p.is_file() and p.suffix != ".duckdb"]
    assert not [p for p in files if PASSWORD.encode() in p.read_bytes()]


# -- the reference run, once, through the asset -------------------------------------------------
@pytest.mark.slow
@pytest.mark.postgres
def test_the_reference_run_publishes_every_mart_to_postgres(
    one_snapshot_run: Path,
    tmp_path: Path,
    target: PostgresTarget,
    monkeypatch: pytest.MonkeyPatch,
    admin: Any,
) -> None:
    data_dir = copy_run(one_snapshot_run, tmp_path / "data")
    clear_postgres_environment(monkeypatch)
    monkeypatch.setenv("OZG_PUBLISH_POSTGRES_DSN", target.dsn)
    monkeypatch.setenv("OZG_PUBLISH_POSTGRES_SCHEMA", target.schema)
    monkeypatch.setenv("OZG_PUBLISH_POSTGRES_READER", target.reader)

    result, _ = materialize_publication(data_dir)

    assert result.success
    published = data_dir / "published" / "ozg.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        marts = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
    assert len(marts) >= 14
    with admin.cursor() as cur:
        cur.execute(
            sql.SQL("select mart, row_count from {} order by 1").format(
                sql.Identifier(target.schema, METADATA_TABLE)
            )
        )
        counts = dict(cur.fetchall())
    assert sorted(counts) == marts and sum(counts.values()) > 100_000
    for mart in marts:
        types = [kind for _, kind, _ in pg_columns(admin, target.schema, mart)]
        assert pg_rows(admin, target.schema, mart, types) == duckdb_rows(published, mart, types)
