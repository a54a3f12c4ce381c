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

import json
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from pipelines.dbt_project import dbt_project
from pipelines.publication.inputs import (
    clear_inputs,
    publication_inputs,
    recorded_everywhere,
    write_inputs,
)
from pipelines.publication.publish import current_publication
from pipelines.reports.build import reports_root
from pipelines.resources import OzgSettings
from pipelines.warehouse import (
    DBT_PROJECT_DIR,
    dbt_environment,
    dbt_executable,
    ensure_manifest,
    keep_parse_state,
    seed_parse_state,
    warehouse_path,
)
from sources.crashpoints import crash_point
from sources.identifiers import dbt_relation

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
    settings = ozg.settings()
    inputs = publication_inputs(settings.data_dir, settings.mode)
    built_from = warehouse_path(settings.data_dir).parent
    if (
        not ozg.force_refetch
        and warehouse_path(settings.data_dir).exists()
        and recorded_everywhere(
            (built_from, current_publication(settings.data_dir), reports_root(settings.data_dir)),
            inputs,
        )
    ):
        # No output: Dagster skips every step downstream of the marts in this run (the
        # analysis, docs, publication and reports), and the published data stay as they are.
        context.log.info(f"{UNCHANGED}: {inputs[:12]}")
        return
    clear_inputs(built_from)  # a failed build must not claim the inputs of the last one
    yield from dbt_build(context, dbt, ozg)
    write_inputs(built_from, inputs)


# Logged when the publish job skips: the CLI and the tests look for it.
UNCHANGED = "publication inputs unchanged since the last complete publication"


def dbt_build(context: dg.AssetExecutionContext, dbt: DbtCliResource, ozg: OzgSettings):  # type: ignore[no-untyped-def]
    """``dbt build`` of the selection of ``context`` with Dagster's standard table metadata
    (dagster/row_count, dagster/column_schema) per model, read after the build.

    dbt holds DuckDB's write lock until it exits, so the metadata can only be read then.
    dagster-dbt's ``fetch_row_counts``/``fetch_column_metadata`` wait for that in a loop
    that polls without sleeping (``dagster._core.utils.imap``: two busy threads for the two
    calls, which on two cores tripled the build's wall time); here the events are
    collected, then one read-only connection reads every model's columns and row count.
    A failed build still yields what it built before the failure is raised."""
    settings = ozg.settings()
    os.environ.update(dbt_environment(settings.data_dir))
    warehouse = warehouse_path(settings.data_dir)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    # dagster-dbt's own naming (<op>-<run>-<unique>), seeded with this data directory's
    # partial-parse state (dagster-dbt would copy the shared one).
    target = (
        DBT_PROJECT_DIR
        / "target"
        / (
            f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
        )
    )
    seed_parse_state(target, settings.data_dir)
    invocation = dbt.cli(["build"], context=context, target_path=target)
    events: list[Any] = []
    failure: Exception | None = None
    try:
        for event in invocation.stream():
            events.append(event)
            crash_point("dbt_build")
    except Exception as error:  # raised again below, after the events built before it
        failure = error
    finally:
        release_warehouse()
        keep_parse_state(target, settings.data_dir, build=context.op_execution_context.op.name)
        prune_invocations(target)
    yield from with_table_metadata(events, invocation.manifest, warehouse)
    if failure is not None:
        detail = first_dbt_error(invocation.target_path)
        if detail is None:
            raise failure
        # dbt's own reason replaces dagster-dbt's "the dbt process failed" (the CLI shows the
        # innermost error of a step; the full dbt log is referenced next to it).
        raise DbtBuildFailed(detail) from None


# dagster-dbt gives every invocation its own target directory (``<op>-<run>-<hash>``, 8–12 MB
# of compiled SQL, run results and logs); nothing removes them, and a year of daily runs
# would fill the disk. The newest few of each op stay for reading a failure afterwards.
KEEP_INVOCATIONS = 3


def prune_invocations(current: Path, keep: int = KEEP_INVOCATIONS) -> list[Path]:
    """Remove all but the ``keep`` newest target directories of ``current``'s op (the one
    just used is the newest); returns what was removed."""
    op = current.name.split("-", 1)[0]
    siblings = [
        p for p in current.parent.glob(f"{op}-*") if p.is_dir() and p.name.split("-", 1)[0] == op
    ]
    siblings.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
    stale = [p for p in siblings[keep:] if p != current]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


class DbtBuildFailed(RuntimeError):
    """dbt build failed; the message is dbt's own first error (node and reason)."""


def first_dbt_error(target_path: Path) -> str | None:
    """``<node>: <message>`` of the first errored node in dbt's run_results.json — what an
    operator needs (e.g. the file DuckDB could not write), where dagster-dbt only says
    that the dbt process exited with code 1."""
    try:
        results = json.loads((Path(target_path) / "run_results.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    for result in results.get("results", []):
        if result.get("status") in ("error", "runtime error"):
            message = " ".join((result.get("message") or "").split())
            return f"dbt {result.get('unique_id', '?')}: {message}"
    return None


def with_table_metadata(
    events: list[Any], manifest: Mapping[str, Any], warehouse: Path
) -> Iterator[Any]:
    """``events`` with ``dagster/column_schema`` on every model's output and
    ``dagster/row_count`` on every table's (views are not counted: counting one runs its
    query, as dagster-dbt's fetch_row_counts also avoids)."""
    nodes = {
        event.metadata["unique_id"].value: manifest["nodes"][event.metadata["unique_id"].value]
        for event in events
        if isinstance(event, dg.Output | dg.AssetMaterialization)
        and "unique_id" in event.metadata
        and event.metadata["unique_id"].value in manifest["nodes"]
    }
    if not nodes or not warehouse.exists():
        yield from events
        return
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        columns: dict[tuple[str, str], list[dg.TableColumn]] = {}
        for schema, table, column, data_type in connection.execute(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns order by table_schema, table_name, ordinal_position"
        ).fetchall():
            columns.setdefault((schema, table), []).append(dg.TableColumn(column, data_type))
        row_counts = {
            unique_id: connection.execute(
                f"select count(*) from {dbt_relation(node['relation_name'])}"
            ).fetchone()[0]  # type: ignore[index]
            for unique_id, node in nodes.items()
            if node["config"].get("materialized") != "view" and node.get("relation_name")
        }
    for event in events:
        unique_id = (
            event.metadata["unique_id"].value
            if "unique_id" in getattr(event, "metadata", {})
            else None
        )
        node = nodes.get(unique_id)
        if node is None:
            yield event
            continue
        extra: dict[str, Any] = {}
        relation_columns = columns.get((node["schema"], node.get("alias") or node["name"]))
        if relation_columns:
            extra["dagster/column_schema"] = dg.MetadataValue.table_schema(
                dg.TableSchema(columns=relation_columns)
            )
        if unique_id in row_counts:
            extra["dagster/row_count"] = dg.MetadataValue.int(int(row_counts[unique_id]))
        yield event.with_metadata({**event.metadata, **extra})


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
