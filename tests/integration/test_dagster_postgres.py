"""Dagster on PostgreSQL: ``dagster.postgres.yaml`` as the instance of real ingest runs.

A DAGSTER_HOME holding the project's PostgreSQL configuration, the connection in the
``DAGSTER_PG_*`` variables (a database of its own on the session's throwaway server,
``postgres_dsn`` in tests/conftest.py): one snapshot's nationwide partition and one Land ×
snapshot partition in sample mode, then the runs, their materialisations and checks read
back from PostgreSQL's own tables and through a fresh instance – and nothing in SQLite.
"""

from __future__ import annotations

import os
import shutil
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import dagster as dg
import psycopg2
import pytest

from pipelines.jobs import INGEST_JOB, NATIONWIDE_JOB
from pipelines.partitions import scope_key
from sources.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = "2026-11-01"
LAND = "04"  # Bremen: the sample's smallest Land with Kreise and Gemeinden of its own
TABLES = ("gebiete", "leistungen", "verfuegbarkeit", "onlinedienste")
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def _connect(dsn: str) -> psycopg2.extensions.connection:
    connection = psycopg2.connect(dsn)
    connection.autocommit = True
    return connection


def connection_variables(dsn: str) -> dict[str, str]:
    """The ``DAGSTER_PG_*`` variables dagster.postgres.yaml reads, for ``dsn``."""
    parts = urlsplit(dsn)
    return {
        "DAGSTER_PG_HOST": parts.hostname or "",
        "DAGSTER_PG_PORT": str(parts.port or 5432),
        "DAGSTER_PG_DB": parts.path.lstrip("/"),
        "DAGSTER_PG_USERNAME": unquote(parts.username or ""),
        "DAGSTER_PG_PASSWORD": unquote(parts.password or ""),
    }


@pytest.fixture
def dagster_database(postgres_dsn: str) -> Iterator[str]:
    """The URL of a new, empty database on the server, dropped afterwards."""
    name = f"dagster_{uuid.uuid4().hex[:12]}"
    admin = _connect(postgres_dsn)
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"create database {name}")
        yield urlunsplit(urlsplit(postgres_dsn)._replace(path=f"/{name}"))
        with admin.cursor() as cursor:
            cursor.execute(f"drop database if exists {name} with (force)")
    finally:
        admin.close()


@pytest.fixture
def postgres_home(
    tmp_path: Path, dagster_database: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A DAGSTER_HOME with dagster.postgres.yaml as its dagster.yaml, the connection in the
    environment, no OZG_* variable of the caller's."""
    for name in [n for n in os.environ if n.startswith("OZG_")]:
        monkeypatch.delenv(name)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(ROOT / "dagster.postgres.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for name, value in connection_variables(dagster_database).items():
        monkeypatch.setenv(name, value)
    yield home


def test_the_configuration_reads_the_connection_from_the_environment() -> None:
    import yaml

    text = (ROOT / "dagster.postgres.yaml").read_text("utf-8")
    document = yaml.safe_load(text)
    expected = {
        "run_storage": ("dagster_postgres.run_storage", "PostgresRunStorage"),
        "event_log_storage": ("dagster_postgres.event_log", "PostgresEventLogStorage"),
        "schedule_storage": ("dagster_postgres.schedule_storage", "PostgresScheduleStorage"),
    }
    for storage, (module, cls) in expected.items():
        assert (document[storage]["module"], document[storage]["class"]) == (module, cls)
        assert document[storage]["config"] == {
            "postgres_db": {
                "hostname": {"env": "DAGSTER_PG_HOST"},
                "port": {"env": "DAGSTER_PG_PORT"},
                "db_name": {"env": "DAGSTER_PG_DB"},
                "username": {"env": "DAGSTER_PG_USERNAME"},
                "password": {"env": "DAGSTER_PG_PASSWORD"},
                "scheme": "postgresql+psycopg2",  # the driver the lock installs
            }
        }
    # The same run queue and pools as the SQLite instance.
    sqlite = yaml.safe_load((ROOT / "dagster.yaml").read_text("utf-8"))
    assert document["concurrency"] == sqlite["concurrency"]
    assert document["telemetry"] == sqlite["telemetry"]


@pytest.mark.postgres
@pytest.mark.slow
def test_a_partition_materialised_through_the_postgres_instance_is_stored_there(
    tmp_path: Path, postgres_home: Path, dagster_database: str
) -> None:
    from pipelines.definitions import build_definitions

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        definitions = build_definitions(
            Settings(data_dir=tmp_path / "data", lands=(LAND,)), step_retries=False
        )
    partition = scope_key(LAND, SNAPSHOT)
    with dg.DagsterInstance.get() as instance:
        storages = {
            type(storage).__name__
            for storage in (
                instance.run_storage,
                instance.event_log_storage,
                instance.schedule_storage,
            )
        }
        assert storages == {
            "PostgresRunStorage",
            "PostgresEventLogStorage",
            "PostgresScheduleStorage",
        }
        nationwide = definitions.resolve_job_def(NATIONWIDE_JOB).execute_in_process(
            partition_key=SNAPSHOT, instance=instance, run_config=QUIET, tags={"ozg/mode": "sample"}
        )
        assert nationwide.success
        ingest = definitions.resolve_job_def(INGEST_JOB).execute_in_process(
            partition_key=partition,
            instance=instance,
            run_config=QUIET,
            tags={"ozg/mode": "sample", "ozg/land": LAND},
        )
        assert ingest.success

    # What PostgreSQL holds, read with SQL.
    connection = _connect(dagster_database)
    try:
        with connection.cursor() as cursor:
            cursor.execute("select run_id, pipeline_name, status from runs")
            runs = {run_id: (job, status) for run_id, job, status in cursor.fetchall()}
            cursor.execute(
                "select asset_key, partition from event_logs "
                "where dagster_event_type = 'ASSET_MATERIALIZATION'"
            )
            materialized = {
                (dg.AssetKey.from_db_string(key).to_user_string(), part)  # type: ignore[union-attr]
                for key, part in cursor.fetchall()
            }
            cursor.execute(
                "select count(*) from event_logs "
                "where run_id = %s and dagster_event_type = 'ASSET_CHECK_EVALUATION'",
                (ingest.run_id,),
            )
            (checks,) = cursor.fetchone()  # type: ignore[misc]
            cursor.execute(
                "select key, value from run_tags where run_id = %s and key like 'ozg/%%'",
                (ingest.run_id,),
            )
            tags = dict(cursor.fetchall())
            cursor.execute(
                "select table_name from information_schema.tables where table_schema = 'public'"
            )
            tables = {row[0] for row in cursor.fetchall()}
    finally:
        connection.close()
    assert runs == {
        nationwide.run_id: (NATIONWIDE_JOB, "SUCCESS"),
        ingest.run_id: (INGEST_JOB, "SUCCESS"),
    }
    assert materialized == {
        ("raw/destatis_gv100ad", SNAPSHOT),
        ("raw/fim", SNAPSHOT),
        ("raw/dashboard", str(partition)),
        ("raw/pvog", str(partition)),
        *((f"normalized/{table}", str(partition)) for table in TABLES),
    }
    assert checks == 2 * len(TABLES)  # each table's gate and warnings
    assert tags == {"ozg/mode": "sample", "ozg/land": LAND}
    # The schedule storage's tables are there too (sensor cursors and ticks live in them).
    assert {"runs", "event_logs", "asset_keys", "instigators", "job_ticks"} <= tables

    # A fresh instance from the same configuration reads the same history.
    with dg.DagsterInstance.from_config(str(postgres_home)) as again:
        assert {run.run_id for run in again.get_runs()} == set(runs)
        records = again.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey(["normalized", "verfuegbarkeit"]),
                asset_partitions=[str(partition)],
            ),
            limit=10,
        ).records
        (record,) = records
        assert record.run_id == ingest.run_id
        materialization = record.asset_materialization
        assert materialization is not None
        assert materialization.metadata["dagster/row_count"].value > 0
        assert materialization.metadata["land"].value == LAND
        gate = again.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey(["normalized", "verfuegbarkeit"]), "verfuegbarkeit_gate")]
        )
        (execution,) = gate.values()
        assert execution.run_id == ingest.run_id
        assert execution.status.value == "SUCCEEDED"
    # Not a byte of it in SQLite: no run, event-log or schedule database under DAGSTER_HOME.
    assert not (postgres_home / "history").exists()
    assert not (postgres_home / "schedules").exists()
    assert not list(postgres_home.rglob("*.db"))
