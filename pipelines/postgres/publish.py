"""Publication of the marts to a PostgreSQL schema that BI tools read, swapped atomically.

With ``OZG_PUBLISH_POSTGRES_DSN`` set, every publication (``pipelines/publication/publish.py``)
also replaces the schema ``OZG_PUBLISH_POSTGRES_SCHEMA`` (``ozg_marts``) by the marts of the
new published DuckDB file. Readers see the old or the new version of *every* mart, never a
mix and never a missing table. No Dagster here.

How (one connection, one publisher at a time per schema: a session advisory lock):

1. **Build**, in one transaction: a fresh schema ``<schema>__next_<8 hex>``, one table per
   mart with the DuckDB column types mapped one to one (``PG_TYPES``; lists and structs
   become ``jsonb``; an unknown type is refused before anything is written), the rows copied
   with ``COPY … FROM STDIN (FORMAT csv)`` from a CSV file DuckDB writes (every value quoted,
   NULL unquoted: an empty string stays an empty string), the row count checked, an index
   on ``snapshot_date``/``ars``/``leika_key`` where present, ``ANALYZE``, the metadata table
   ``_publication`` (publication id = the local ``.versions/<stamp>`` name, built at, mode,
   one row per mart with its row count). Committed, but invisible: readers only know the
   live name, and the read-only role has no rights on it yet. A failure rolls the whole
   build back (a killed process too: the server aborts its transaction); the error names
   the mart.
2. **Swap**, in one short transaction: ``LOCK TABLE`` every live table ``IN ACCESS EXCLUSIVE
   MODE``, ``ALTER SCHEMA <schema> RENAME TO <schema>__old_…``, ``ALTER SCHEMA …__next_…
   RENAME TO <schema>``, ``GRANT USAGE`` on it and ``SELECT`` on every table to the
   read-only role, ``DROP TABLE`` the old tables and ``DROP SCHEMA`` the old one (RESTRICT:
   a view someone built on a mart fails the swap instead of vanishing), commit.

Why the lock: ``ALTER SCHEMA … RENAME`` only updates the schema's catalog row; it takes no
lock on the tables in it and waits for no reader. A reader's *next* statement – even in the
same transaction, even the next relation of one statement – resolves names against the
catalog as committed now, so a rename alone lets a transaction read one mart of the old and
one of the new version (``tests/integration/test_postgres_publication.py`` shows it). Every
query holds ACCESS SHARE on the tables it read until its transaction ends, so with the lock
the swap waits until no transaction that read a live mart is open; queries that arrive
meanwhile queue behind it, and when it commits they re-resolve their names (PostgreSQL
retries the lookup after an invalidation) and read the new tables. So a transaction that
read any live mart sees the old version until it ends; one that starts later sees the new.
(Dropping the old tables in the swap transaction would take the same locks, but in the
order of the statement and with no bound on the wait: a reader left idle in a transaction
would block the swap, and every query queued behind it, for as long as it stays idle.)

The tables are locked one by one: the first waits up to ``LOCK_ATTEMPT`` (0.5 s) while the
swap holds nothing, each further one ``LOCK_FURTHER`` (0.05 s) only – both below half of
``deadlock_timeout``, so when a reader's lock order crosses the swap's, the swap gives up,
never the reader. A table it could not get is locked first in the next attempt, until
``SWAP_TIMEOUT`` (60 s): a query is held up at most half a second per attempt, and a
session left "idle in transaction" on the marts makes the publication fail (the previous
version live) instead of blocking dashboards indefinitely. (No lock order is safe against
every reader: transactions that read several marts in crossing orders back to back, with
no pause at all, can keep the swap retrying for seconds; they are never aborted.)

Caveat: a REPEATABLE READ transaction whose snapshot is older than the build's commit and
that first touches the marts after the swap sees the new tables empty (their rows are newer
than its snapshot). BI tools run each query in its own transaction; see docs/bi-postgres.md.
"""

from __future__ import annotations

import logging
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from sources.config import env, redact
from sources.identifiers import SQL_NAME_PATTERN, relation

if TYPE_CHECKING:  # psycopg2 is imported only when a publication to PostgreSQL runs
    from psycopg2.extensions import connection as Connection

LOG = logging.getLogger(__name__)

DSN_VARIABLE = "OZG_PUBLISH_POSTGRES_DSN"
SCHEMA_VARIABLE = "OZG_PUBLISH_POSTGRES_SCHEMA"
READER_VARIABLE = "OZG_PUBLISH_POSTGRES_READER"
DUCKDB_SCHEMA = "marts"  # the schema of the published DuckDB file that holds the marts
METADATA_TABLE = "_publication"
NEXT_INFIX = "__next_"
OLD_INFIX = "__old_"
# Lower-case plain names (what BI tools show unquoted); the schema leaves room for the
# 14 characters of "__next_<8 hex>" within PostgreSQL's 63.
PG_NAME = re.compile(r"[a-z_][a-z0-9_]*")
MAX_SCHEMA_LENGTH = 40
MAX_NAME_BYTES = 63
RESERVED_SCHEMAS = ("public", "information_schema")
# Columns BI queries filter on: an index where a mart has one.
INDEXED_COLUMNS = ("snapshot_date", "ars", "leika_key")
SWAP_TIMEOUT = 60.0  # seconds the swap keeps trying to take the live marts from readers
LOCK_ATTEMPT = 0.5  # seconds the swap waits for its first lock, holding none
LOCK_FURTHER = 0.05  # seconds it waits for each further lock, holding some
PUBLISHER_WAIT = 600.0  # seconds to wait for another publication to the same schema
APPLICATION_NAME = "ozg-publish"

# DuckDB type -> PostgreSQL type, for the types whose CSV text PostgreSQL reads back exactly.
PG_TYPES = {
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "UUID": "uuid",
}
DECIMAL = re.compile(r"DECIMAL\((\d+),(\d+)\)")
NESTED_PREFIXES = ("STRUCT(",)


class PostgresPublicationError(RuntimeError):
    """The publication to PostgreSQL failed; the previous version of the schema stays live.
    The message names the server (host, port, database), the schema and the mart – never
    the password."""


@dataclass(frozen=True)
class PostgresTarget:
    """Where the marts go: a libpq connection string or ``postgresql://`` URI (a secret: not
    in ``repr``), the live schema and the read-only role granted on it."""

    dsn: str = field(repr=False)
    schema: str = "ozg_marts"
    reader: str = "ozg_leser"

    def __post_init__(self) -> None:
        _check_name(self.schema, SCHEMA_VARIABLE, MAX_SCHEMA_LENGTH)
        _check_name(self.reader, READER_VARIABLE, MAX_NAME_BYTES)
        if self.schema in RESERVED_SCHEMAS or self.schema.startswith("pg_"):
            raise PostgresPublicationError(
                f"{SCHEMA_VARIABLE} must name a schema of its own (it is replaced on every "
                f"publication), not {self.schema!r}"
            )
        if self.reader == "public" or self.reader.startswith("pg_"):
            raise PostgresPublicationError(f"{READER_VARIABLE} must not be {self.reader!r}")
        self.parameters()  # a malformed DSN fails here, before anything runs

    def parameters(self) -> dict[str, str]:
        """The DSN's parsed keywords (``password`` among them, when it has one)."""
        from psycopg2.extensions import parse_dsn

        try:
            return dict(parse_dsn(self.dsn))
        except Exception:  # its message quotes the DSN: not shown
            raise PostgresPublicationError(
                f"{DSN_VARIABLE} is not a libpq connection string or postgresql:// URI "
                "(its value is not shown: it may hold a password)"
            ) from None

    @property
    def server(self) -> str:
        """``host:port/database``: what logs and errors may show of the DSN."""
        parameters = self.parameters()
        host = parameters.get("host") or parameters.get("hostaddr") or "localhost"
        port = parameters.get("port") or "5432"
        database = parameters.get("dbname") or parameters.get("user") or "?"
        return f"{host}:{port}/{database}"

    def describe(self) -> str:
        return f"{self.server} schema {self.schema}"

    def fingerprint(self) -> str:
        """Everything that decides where the marts go, without the password: part of the
        publication inputs (``pipelines/publication/inputs.py``)."""
        parameters = self.parameters()
        shown = sorted(
            (key, value)
            for key, value in parameters.items()
            if key not in ("password", "sslpassword")
        )
        words = [f"{key}={value}" for key, value in shown]
        return " ".join([*words, f"schema={self.schema}", f"reader={self.reader}"])

    def secrets(self) -> tuple[str, ...]:
        parameters = self.parameters()
        return tuple(
            value
            for value in (self.dsn, parameters.get("password"), parameters.get("sslpassword"))
            if value
        )


def _check_name(value: str, variable: str, max_length: int) -> None:
    if PG_NAME.fullmatch(value) is None or len(value) > max_length:
        raise PostgresPublicationError(
            f"{variable} must be a lower-case name of at most {max_length} characters "
            f"a-z 0-9 _, not {value[:70]!r}"
        )


def target_from_env() -> PostgresTarget | None:
    """The target configured by ``OZG_PUBLISH_POSTGRES_*``; None when no DSN is set (the
    default: nothing touches PostgreSQL)."""
    dsn = env(DSN_VARIABLE).strip()
    if not dsn:
        return None
    return PostgresTarget(
        dsn=dsn, schema=env(SCHEMA_VARIABLE).strip(), reader=env(READER_VARIABLE).strip()
    )


@dataclass(frozen=True)
class PostgresPublished:
    server: str  # host:port/database
    schema: str
    publication_id: str
    marts: dict[str, int]  # mart -> rows


# -- the marts of the DuckDB file ---------------------------------------------------------
@dataclass(frozen=True)
class Column:
    name: str
    duckdb_type: str
    pg_type: str
    not_null: bool

    def expression(self) -> duckdb.Expression:
        """What DuckDB writes to the CSV for this column: the value, or its JSON text."""
        column = duckdb.ColumnExpression(self.name)
        if self.pg_type == "jsonb":
            return duckdb.FunctionExpression("to_json", column).alias(self.name)
        return column


@dataclass(frozen=True)
class Mart:
    name: str
    columns: tuple[Column, ...]
    rows: int


def pg_type(duckdb_type: str) -> str | None:
    """The PostgreSQL type for a DuckDB column type, None when there is none."""
    if duckdb_type in PG_TYPES:
        return PG_TYPES[duckdb_type]
    decimal = DECIMAL.fullmatch(duckdb_type)
    if decimal:
        return f"numeric({int(decimal[1])},{int(decimal[2])})"
    if duckdb_type.endswith("]") or duckdb_type.startswith(NESTED_PREFIXES):
        return "jsonb"
    return None


def read_marts(database: Path) -> list[Mart]:
    """Every table of schema ``marts`` with its columns and rows; a name PostgreSQL would
    truncate or a type without a faithful PostgreSQL type is refused, naming the mart."""
    marts = []
    with duckdb.connect(str(database), read_only=True) as con:
        names = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
                [DUCKDB_SCHEMA],
            ).fetchall()
        ]
        for name in names:
            _check_pg_name(name, f"mart {name}")
            columns = []
            for column, duckdb_type, nullable in con.execute(
                "select column_name, data_type, is_nullable from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [DUCKDB_SCHEMA, name],
            ).fetchall():
                _check_pg_name(column, f"mart {name}: column {column}")
                mapped = pg_type(duckdb_type)
                if mapped is None:
                    raise PostgresPublicationError(
                        f"mart {name}: column {column} has the DuckDB type {duckdb_type}, "
                        "which has no faithful PostgreSQL type here (pipelines/postgres/"
                        "publish.py PG_TYPES); nothing was written to PostgreSQL"
                    )
                columns.append(Column(column, duckdb_type, mapped, nullable == "NO"))
            (rows,) = con.execute(
                f"select count(*) from {relation(DUCKDB_SCHEMA, name)}"
            ).fetchone()  # type: ignore[misc]
            marts.append(Mart(name, tuple(columns), rows))
    return marts


def _check_pg_name(name: str, what: str) -> None:
    if SQL_NAME_PATTERN.fullmatch(name) is None or len(name.encode()) > MAX_NAME_BYTES:
        raise PostgresPublicationError(
            f"{what}: not a plain name of at most {MAX_NAME_BYTES} bytes, which PostgreSQL "
            "would truncate; nothing was written to PostgreSQL"
        )


def export_csv(con: duckdb.DuckDBPyConnection, mart: Mart, path: Path) -> None:
    """``mart`` as CSV for ``COPY … (FORMAT csv)``: no header, every value quoted and NULL
    unquoted and empty (so "" is an empty string, and a lone ``\\.`` is no end marker),
    timestamps with time zone in UTC, doubles in DuckDB's shortest exact form."""
    con.execute("set TimeZone = 'UTC'")
    table = con.table(f"{DUCKDB_SCHEMA}.{mart.name}")
    table.select(*(column.expression() for column in mart.columns)).write_csv(
        str(path), header=False, quoting="ALL"
    )


# -- PostgreSQL ------------------------------------------------------------------------------
def publish_marts(
    database: Path,
    target: PostgresTarget,
    *,
    publication_id: str,
    built_at: datetime,
    mode: str,
    work_dir: Path | None = None,
    log: Callable[[str], None] | None = None,
    swap_timeout: float = SWAP_TIMEOUT,
) -> PostgresPublished:
    """Replace ``target.schema`` by the marts of the DuckDB file ``database`` (see the module
    docstring). Raises ``PostgresPublicationError`` – the previous version still live – on
    any failure."""
    say = log or LOG.info
    marts = read_marts(database)  # a mart PostgreSQL cannot hold fails before connecting
    suffix = uuid.uuid4().hex[:8]
    next_schema = f"{target.schema}{NEXT_INFIX}{suffix}"
    old_schema = f"{target.schema}{OLD_INFIX}{suffix}"
    say(
        f"PostgreSQL {target.describe()}: publishing {len(marts)} marts "
        f"(publication {publication_id}) through {next_schema}"
    )
    started = time.monotonic()
    with _connection(target) as conn, _one_publisher(conn, target, say):
        _check_live_schema(conn, target)
        _drop_leftovers(conn, target)
        _ensure_reader(conn, target, say)
        try:
            _build(
                conn,
                target,
                next_schema,
                database,
                marts,
                publication_id=publication_id,
                built_at=built_at,
                mode=mode,
                work_dir=work_dir,
            )
            attempts = _swap(conn, target, next_schema, old_schema, swap_timeout)
        except BaseException:
            _drop_schema_quietly(conn, next_schema)
            raise
    say(
        f"PostgreSQL {target.describe()}: publication {publication_id} live "
        f"({sum(m.rows for m in marts)} rows in {len(marts)} marts, "
        f"{time.monotonic() - started:.1f}s, swap after {attempts} attempt(s))"
    )
    return PostgresPublished(
        target.server, target.schema, publication_id, {m.name: m.rows for m in marts}
    )


def _error_text(error: BaseException, target: PostgresTarget) -> str:
    """A psycopg2 error as one or two lines (message and context), without secrets."""
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if primary:
        context = getattr(diag, "context", None)
        text = primary + (f" ({context.strip().splitlines()[0]})" if context else "")
    else:
        text = " ".join(str(error).split())
    return redact(text, target.secrets())


@contextmanager
def _connection(target: PostgresTarget) -> Iterator[Connection]:
    import psycopg2

    parameters = target.parameters()
    extra = {}
    if "application_name" not in parameters:
        extra["application_name"] = APPLICATION_NAME
    if "connect_timeout" not in parameters:
        extra["connect_timeout"] = "10"
    try:
        conn = psycopg2.connect(target.dsn, **extra)
    except psycopg2.Error as error:
        raise PostgresPublicationError(
            f"PostgreSQL {target.server}: cannot connect: {_error_text(error, target)}"
        ) from None
    try:
        conn.set_client_encoding("UTF8")
        yield conn
    finally:
        with suppress(Exception):
            conn.rollback()
        conn.close()


def _advisory_key(target: PostgresTarget) -> str:
    return f"ozg-publish:{target.schema}"


@contextmanager
def _one_publisher(
    conn: Connection, target: PostgresTarget, say: Callable[[str], None]
) -> Iterator[None]:
    """One publication per schema at a time (a session advisory lock, released with the
    connection if the process dies)."""
    deadline = time.monotonic() + PUBLISHER_WAIT
    waited = False
    with conn.cursor() as cur:
        while True:
            cur.execute("select pg_try_advisory_lock(hashtext(%s))", [_advisory_key(target)])
            (locked,) = cur.fetchone()  # type: ignore[misc]
            conn.commit()
            if locked:
                break
            if time.monotonic() > deadline:
                raise PostgresPublicationError(
                    f"PostgreSQL {target.describe()}: another publication to this schema "
                    f"has been running for more than {PUBLISHER_WAIT:.0f}s"
                )
            if not waited:
                say(f"PostgreSQL {target.describe()}: waiting for another publication")
                waited = True
            time.sleep(1.0)
    try:
        yield
    finally:
        with suppress(Exception), conn.cursor() as cur:
            conn.rollback()
            cur.execute("select pg_advisory_unlock(hashtext(%s))", [_advisory_key(target)])
            conn.commit()


def _schema_exists(cur: Any, schema: str) -> bool:
    cur.execute("select exists (select 1 from pg_namespace where nspname = %s)", [schema])
    return bool(cur.fetchone()[0])


def _tables(cur: Any, schema: str) -> list[str]:
    cur.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relkind in ('r', 'p') order by c.relname",
        [schema],
    )
    return [row[0] for row in cur.fetchall()]


def _check_live_schema(conn: Connection, target: PostgresTarget) -> None:
    """Refuse to replace a schema that is not an OZG publication (no ``_publication``)."""
    with conn.cursor() as cur:
        if _schema_exists(cur, target.schema):
            cur.execute(
                "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                "where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')",
                [target.schema],
            )
            (objects,) = cur.fetchone()  # type: ignore[misc]
            if objects and METADATA_TABLE not in _tables(cur, target.schema):
                raise PostgresPublicationError(
                    f"PostgreSQL {target.describe()}: the schema exists and holds objects but "
                    f"no {METADATA_TABLE} table, so it is no OZG publication; it is left "
                    f"alone – set {SCHEMA_VARIABLE} to another name or drop it"
                )
    conn.commit()


def _drop_leftovers(conn: Connection, target: PostgresTarget) -> None:
    """Schemas an interrupted publication left behind (a build is committed before its
    swap): ours by name, and no other publisher runs (``_one_publisher``)."""
    from psycopg2 import sql

    with conn.cursor() as cur:
        cur.execute(
            "select nspname from pg_namespace where starts_with(nspname, %s) "
            "or starts_with(nspname, %s) order by nspname",
            [target.schema + NEXT_INFIX, target.schema + OLD_INFIX],
        )
        for (schema,) in cur.fetchall():
            cur.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    conn.commit()


def _drop_schema_quietly(conn: Connection, schema: str) -> None:
    from psycopg2 import sql

    with suppress(Exception):
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.commit()


def _ensure_reader(conn: Connection, target: PostgresTarget, say: Callable[[str], None]) -> None:
    """The read-only role: created as a NOLOGIN group role when missing (BI logins are
    made members of it, docs/bi-postgres.md)."""
    import psycopg2
    from psycopg2 import sql

    with conn.cursor() as cur:
        cur.execute("select exists (select 1 from pg_roles where rolname = %s)", [target.reader])
        if cur.fetchone()[0]:  # type: ignore[index]
            conn.commit()
            return
        try:
            cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(target.reader)))
            cur.execute(
                sql.SQL("COMMENT ON ROLE {} IS %s").format(sql.Identifier(target.reader)),
                [f"read-only access to the OZG marts (schema {target.schema}), for BI logins"],
            )
            conn.commit()
        except psycopg2.errors.DuplicateObject:  # created meanwhile by someone else
            conn.rollback()
            return
        except psycopg2.Error as error:
            conn.rollback()
            raise PostgresPublicationError(
                f"PostgreSQL {target.describe()}: the read-only role {target.reader} does not "
                f"exist and cannot be created ({_error_text(error, target)}): create it once "
                f"with CREATE ROLE {target.reader} NOLOGIN, or give the publishing login "
                "CREATEROLE"
            ) from None
    say(f"PostgreSQL {target.server}: created the read-only role {target.reader} (NOLOGIN)")


def _build(
    conn: Connection,
    target: PostgresTarget,
    next_schema: str,
    database: Path,
    marts: list[Mart],
    *,
    publication_id: str,
    built_at: datetime,
    mode: str,
    work_dir: Path | None,
) -> None:
    """The new version in ``next_schema``, in one transaction (rolled back on failure)."""
    import psycopg2
    from psycopg2 import sql

    schema = sql.Identifier(next_schema)
    current = "creating the schema"
    try:
        with (
            conn.cursor() as cur,
            tempfile.TemporaryDirectory(prefix=".postgres-", dir=work_dir) as scratch,
            duckdb.connect(str(database), read_only=True) as source,
        ):
            cur.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
            cur.execute(
                sql.SQL("COMMENT ON SCHEMA {} IS %s").format(schema),
                [f"OZG-Verfügbarkeit marts, publication {publication_id} ({mode})"],
            )
            for mart in marts:
                current = f"mart {mart.name}"
                table = sql.Identifier(next_schema, mart.name)
                cur.execute(
                    sql.SQL("CREATE TABLE {} ({})").format(
                        table,
                        sql.SQL(", ").join(
                            sql.SQL("{} {}{}").format(
                                sql.Identifier(column.name),
                                sql.SQL(column.pg_type),
                                sql.SQL(" NOT NULL" if column.not_null else ""),
                            )
                            for column in mart.columns
                        ),
                    )
                )
                csv = Path(scratch) / "mart.csv"
                try:
                    export_csv(source, mart, csv)
                except duckdb.Error as error:
                    raise PostgresPublicationError(
                        f"PostgreSQL {target.describe()}: mart {mart.name}: reading it from "
                        f"DuckDB failed: {error}; the previous publication stays live"
                    ) from None
                with open(csv, "rb") as data:
                    cur.copy_expert(
                        sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
                            table,
                            sql.SQL(", ").join(sql.Identifier(c.name) for c in mart.columns),
                        ),
                        data,
                        size=1 << 20,
                    )
                    copied = cur.rowcount
                csv.unlink()
                if copied != mart.rows:
                    raise PostgresPublicationError(
                        f"PostgreSQL {target.describe()}: mart {mart.name}: {copied} rows "
                        f"arrived of {mart.rows}; the previous publication stays live"
                    )
                names = {column.name for column in mart.columns}
                for column in INDEXED_COLUMNS:
                    if column in names:
                        cur.execute(
                            sql.SQL("CREATE INDEX ON {} ({})").format(table, sql.Identifier(column))
                        )
                cur.execute(sql.SQL("ANALYZE {}").format(table))
            current = f"the metadata table {METADATA_TABLE}"
            metadata = sql.Identifier(next_schema, METADATA_TABLE)
            cur.execute(
                sql.SQL(
                    "CREATE TABLE {} (publication_id text NOT NULL, built_at timestamptz "
                    "NOT NULL, live_since timestamptz, mode text NOT NULL, sample boolean "
                    "NOT NULL, mart text PRIMARY KEY, row_count bigint NOT NULL)"
                ).format(metadata)
            )
            for mart in marts:
                cur.execute(
                    sql.SQL(
                        "INSERT INTO {} (publication_id, built_at, mode, sample, mart, "
                        "row_count) VALUES (%s, %s, %s, %s, %s, %s)"
                    ).format(metadata),
                    [publication_id, built_at, mode, mode == "sample", mart.name, mart.rows],
                )
        conn.commit()
    except psycopg2.Error as error:
        conn.rollback()
        raise PostgresPublicationError(
            f"PostgreSQL {target.describe()}: {current}: {_error_text(error, target)}; "
            "the previous publication stays live"
        ) from None
    except BaseException:
        conn.rollback()
        raise


def _lock_timeouts(conn: Connection) -> tuple[float, float]:
    """Seconds the swap waits for its first lock (holding none) and for each further one
    (holding some): ``LOCK_ATTEMPT`` and ``LOCK_FURTHER``, both below half the server's
    ``deadlock_timeout``, so that when a reader's lock order crosses the swap's, the swap
    gives up before the reader's deadlock check could abort the reader."""
    with conn.cursor() as cur:
        cur.execute("select extract(epoch from current_setting('deadlock_timeout')::interval)")
        (deadlock_timeout,) = cur.fetchone()  # type: ignore[misc]
    conn.commit()
    limit = float(deadlock_timeout) / 2
    return max(0.01, min(LOCK_ATTEMPT, limit)), max(0.01, min(LOCK_FURTHER, limit))


class _Contended(Exception):
    def __init__(self, table: str) -> None:
        self.table = table


def _lock_live_tables(
    cur: Any, schema: str, order: list[str], first: float, further: float
) -> None:
    """ACCESS EXCLUSIVE on every table of ``order``, one by one: the first may wait
    ``first`` seconds (the swap holds nothing then, so no reader can be waiting for it),
    each further one ``further`` only (readers of the tables held queue meanwhile)."""
    import psycopg2
    from psycopg2 import sql

    for position, table in enumerate(order):
        cur.execute(
            "select set_config('lock_timeout', %s, true)",
            [f"{int((first if position == 0 else further) * 1000)}ms"],
        )
        try:
            cur.execute(
                sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                    sql.Identifier(schema, table)
                )
            )
        except (psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected):
            raise _Contended(table) from None


def _swap(
    conn: Connection, target: PostgresTarget, next_schema: str, old_schema: str, timeout: float
) -> int:
    """Make ``next_schema`` the live schema in one transaction; the attempts it took.

    A table the swap could not lock is locked first in the next attempt: the swap then
    waits for its readers while holding nothing, and takes the others at once."""
    import psycopg2
    from psycopg2 import sql

    first, further = _lock_timeouts(conn)
    deadline = time.monotonic() + timeout
    attempts = 0
    contended: list[str] = []
    live = sql.Identifier(target.schema)
    while True:
        attempts += 1
        try:
            with conn.cursor() as cur:
                exists = _schema_exists(cur, target.schema)
                old_tables = _tables(cur, target.schema) if exists else []
                order = [t for t in contended if t in old_tables]
                order += [t for t in old_tables if t not in order]
                _lock_live_tables(cur, target.schema, order, first, further)
                if exists:
                    cur.execute(
                        sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                            live, sql.Identifier(old_schema)
                        )
                    )
                cur.execute(
                    sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                        sql.Identifier(next_schema), live
                    )
                )
                cur.execute(
                    sql.SQL("UPDATE {} SET live_since = statement_timestamp()").format(
                        sql.Identifier(target.schema, METADATA_TABLE)
                    )
                )
                # Granted here, not in the build: the reader never sees a version being built.
                reader = sql.Identifier(target.reader)
                cur.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(live, reader))
                cur.execute(
                    sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(live, reader)
                )
                if old_tables:
                    cur.execute(
                        sql.SQL("DROP TABLE {}").format(
                            sql.SQL(", ").join(
                                sql.Identifier(old_schema, name) for name in old_tables
                            )
                        )
                    )
                if exists:
                    cur.execute(sql.SQL("DROP SCHEMA {}").format(sql.Identifier(old_schema)))
            conn.commit()
            return attempts
        except _Contended as busy:
            conn.rollback()
            contended = [busy.table, *(t for t in contended if t != busy.table)]
            if time.monotonic() > deadline:
                raise PostgresPublicationError(
                    f"PostgreSQL {target.describe()}: could not take the live marts from "
                    f"their readers within {timeout:.0f}s ({attempts} attempts): a session "
                    "keeps a transaction open on them (pg_stat_activity, state 'idle in "
                    "transaction'); the previous publication stays live"
                ) from None
            time.sleep(0.02)
        except psycopg2.errors.DependentObjectsStillExist as error:
            conn.rollback()
            detail = getattr(error.diag, "message_detail", None) or ""
            raise PostgresPublicationError(
                f"PostgreSQL {target.describe()}: the previous publication cannot be dropped: "
                f"other objects depend on its tables ({' '.join(detail.split())[:300]}); drop "
                "them (BI tools should query the marts directly, not through views of their "
                "own); the previous publication stays live"
            ) from None
        except psycopg2.Error as error:
            conn.rollback()
            raise PostgresPublicationError(
                f"PostgreSQL {target.describe()}: swapping in the new schema: "
                f"{_error_text(error, target)}; the previous publication stays live"
            ) from None
