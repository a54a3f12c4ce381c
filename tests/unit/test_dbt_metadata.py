"""The table metadata the dbt assets attach after the build (pipelines/defs/marts.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.defs.marts import first_dbt_error, prune_invocations, with_table_metadata


def _node(name: str, schema: str, materialized: str) -> dict[str, object]:
    return {
        "name": name,
        "schema": schema,
        "alias": name,
        "relation_name": f'"ozg"."{schema}"."{name}"',
        "config": {"materialized": materialized},
    }


def test_models_get_their_columns_and_tables_their_row_counts(tmp_path: Path) -> None:
    warehouse = tmp_path / "ozg.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema marts")
        connection.execute("create schema staging")
        connection.execute(
            "create table marts.mart_a as select range as ars, 1.5 as quote from range(7)"
        )
        connection.execute("create view staging.stg_b as select 'x' as leika_key")
    manifest = {
        "nodes": {
            "model.ozg.mart_a": _node("mart_a", "marts", "table"),
            "model.ozg.stg_b": _node("stg_b", "staging", "view"),
        }
    }
    check = dg.AssetCheckResult(asset_key="x", check_name="c", passed=True)
    events = [
        dg.Output(None, "marts_mart_a", metadata={"unique_id": "model.ozg.mart_a"}),
        dg.Output(None, "staging_stg_b", metadata={"unique_id": "model.ozg.stg_b"}),
        check,
    ]

    table, view, passed_through = with_table_metadata(events, manifest, warehouse)

    assert table.metadata["dagster/row_count"] == dg.MetadataValue.int(7)
    assert table.metadata["dagster/column_schema"] == dg.MetadataValue.table_schema(
        dg.TableSchema(
            columns=[dg.TableColumn("ars", "BIGINT"), dg.TableColumn("quote", "DECIMAL(2,1)")]
        )
    )
    assert table.metadata["unique_id"] == dg.MetadataValue.text("model.ozg.mart_a")
    # A view is described but not counted: counting it would run its query.
    assert "dagster/row_count" not in view.metadata
    assert [c.name for c in view.metadata["dagster/column_schema"].value.columns] == ["leika_key"]
    assert passed_through is check


def test_a_build_that_wrote_no_warehouse_passes_its_events_through(tmp_path: Path) -> None:
    events = [dg.Output(None, "marts_mart_a", metadata={"unique_id": "model.ozg.mart_a"})]
    manifest = {"nodes": {"model.ozg.mart_a": _node("mart_a", "marts", "table")}}
    assert list(with_table_metadata(events, manifest, tmp_path / "missing.duckdb")) == events


def test_a_failed_build_is_reported_with_dbts_first_error(tmp_path: Path) -> None:
    results = {
        "results": [
            {"unique_id": "model.ozg.stg_a", "status": "success", "message": "OK"},
            {
                "unique_id": "model.ozg.mart_b",
                "status": "error",
                "message": 'IO Error: Could not write "/d/ozg.duckdb":\n No space left on device',
            },
            {"unique_id": "model.ozg.mart_c", "status": "error", "message": "later"},
        ]
    }
    (tmp_path / "run_results.json").write_text(json.dumps(results), encoding="utf-8")
    assert first_dbt_error(tmp_path) == (
        'dbt model.ozg.mart_b: IO Error: Could not write "/d/ozg.duckdb": No space left on device'
    )
    assert first_dbt_error(tmp_path / "missing") is None


def test_old_invocation_directories_of_the_op_are_pruned(tmp_path: Path) -> None:
    target = tmp_path / "target"
    names = [f"ozg_dbt-run{i}-abc{i}" for i in range(6)] + ["ozg_dbt_analyse-run0-def0"]
    for age, name in enumerate(names):
        (target / name).mkdir(parents=True)
        (target / name / "run_results.json").write_text("{}")
        os.utime(target / name, ns=(age * 10**9, age * 10**9))  # later = newer
    (target / "manifest.json").write_text("{}")
    current = target / "ozg_dbt-run5-abc5"
    removed = prune_invocations(current, keep=3)
    assert sorted(p.name for p in removed) == [f"ozg_dbt-run{i}-abc{i}" for i in range(3)]
    left = sorted(p.name for p in target.iterdir())
    assert left == [
        "manifest.json",
        "ozg_dbt-run3-abc3",
        "ozg_dbt-run4-abc4",
        "ozg_dbt-run5-abc5",
        "ozg_dbt_analyse-run0-def0",  # another op's directory is not this op's to prune
    ]
