"""dbt marts: one ``@dbt_assets`` over the dbt project, without the models tagged
``analyse`` (those read the roll-out driver analysis and are built after it by
``pipelines/defs/analysis.py``).

dbt sources carry ``meta.dagster.asset_key`` pointing at the normalised assets, so the
lineage runs raw → normalized → staging → intermediate → marts. dbt tests become asset
checks; tests with severity error are blocking. Each model's materialisation carries
``dagster/row_count`` and ``dagster/column_schema``; dagster-dbt sets ``code_version``
from the model's SQL checksum. dbt is the only writer of the
warehouse file, and every step touching it runs in the ``duckdb`` pool.
"""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from pipelines.dbt_project import dbt_project
from pipelines.resources import OzgSettings
from pipelines.warehouse import dbt_environment, dbt_executable, ensure_manifest, warehouse_path

LAYERS = ("staging", "intermediate", "marts", "seeds")


class OzgDbtTranslator(DagsterDbtTranslator):
    """Keys ``[layer, model]`` and groups by layer; sources keep their meta asset keys."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        schema = dbt_resource_props.get("config", {}).get("schema") or "dbt"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        schema = dbt_resource_props.get("config", {}).get("schema")
        return f"dbt_{schema}" if schema in LAYERS else "dbt"


# The models of the roll-out driver analysis (docs/metrics.md §6.16) read its Parquet
# output: a second ``@dbt_assets`` builds them after the analysis (pipelines/defs/analysis.py).
ANALYSE_TAG = "analyse"

# The quarantine source is written by the same normalised assets: allow the shared key.
TRANSLATOR = OzgDbtTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True, enable_duplicate_source_asset_keys=True
    )
)


@dbt_assets(
    manifest=ensure_manifest(),
    dagster_dbt_translator=TRANSLATOR,
    exclude=f"tag:{ANALYSE_TAG}",
    pool="duckdb",
    name="ozg_dbt",
)
def ozg_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, ozg: OzgSettings):
    yield from dbt_build(context, dbt, ozg)


def dbt_build(context: dg.AssetExecutionContext, dbt: DbtCliResource, ozg: OzgSettings):  # type: ignore[no-untyped-def]
    """``dbt build`` of the selection of ``context`` with Dagster's standard table metadata
    (dagster/row_count, dagster/column_schema) per model, read after the build:
    dagster-dbt waits for dbt to release DuckDB's write lock."""
    settings = ozg.settings()
    os.environ.update(dbt_environment(settings.data_dir))
    warehouse_path(settings.data_dir).parent.mkdir(parents=True, exist_ok=True)
    try:
        yield from (
            dbt.cli(["build"], context=context)
            .stream()
            .fetch_row_counts()
            .fetch_column_metadata(with_column_lineage=False)
        )
    finally:
        release_warehouse()


def release_warehouse() -> None:
    """Close the DuckDB handle dbt-duckdb keeps for the whole process after the metadata
    queries: later steps of an in-process run (publication, reports) and other processes
    must find the warehouse file unlocked."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    if DuckDBConnectionManager._ENV is not None:  # no public accessor in dbt-duckdb 1.11
        DuckDBConnectionManager._ENV.close()
    DuckDBConnectionManager.close_all_connections()


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(
        project_dir=dbt_project,
        profiles_dir=str(dbt_project.project_dir),
        dbt_executable=dbt_executable(),
    )
