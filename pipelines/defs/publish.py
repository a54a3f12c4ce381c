"""Publishing for BI tools: runs only after the marts built and their blocking checks passed."""

import dagster as dg

from pipelines.defs.analysis import ozg_dbt_analyse_assets
from pipelines.defs.dbt_docs import dbt_docs
from pipelines.defs.docs import metrikverzeichnis
from pipelines.defs.marts import ozg_dbt_assets
from pipelines.postgres.publish import target_from_env
from pipelines.publication.publish import publish
from pipelines.resources import OzgSettings
from pipelines.warehouse import warehouse_path


@dg.asset(
    key=["published", "warehouse"],
    group_name="published",
    deps=[ozg_dbt_assets, ozg_dbt_analyse_assets, metrikverzeichnis, dbt_docs],
    kinds={"duckdb", "parquet", "csv"},
    pool="duckdb",
    description=(
        "data/published/ozg.duckdb (atomic replace) and every mart as Parquet and CSV "
        "(UTF-8 with BOM, ';', decimal comma) under data/published/marts/; with "
        "OZG_PUBLISH_POSTGRES_DSN set also every mart in a PostgreSQL schema, swapped in "
        "atomically (docs/bi-postgres.md)."
    ),
)
def published_warehouse(
    context: dg.AssetExecutionContext, ozg: OzgSettings
) -> dg.MaterializeResult:
    settings = ozg.settings()
    postgres = target_from_env()
    result = publish(
        warehouse_path(settings.data_dir),
        settings.data_dir,
        mode=settings.mode,
        postgres=postgres,
        log=context.log.info,
    )
    metadata: dict[str, object] = {
        "mode": settings.mode,
        "sample": settings.mode == "sample",
        "database": dg.MetadataValue.path(str(result.database)),
        "marts_dir": dg.MetadataValue.path(str(result.marts_dir)),
        "rows_per_mart": dg.MetadataValue.json(result.marts),
        "publication_id": result.publication_id,
    }
    if result.postgres is not None:  # host, port, database and schema: never the DSN
        metadata["postgres_server"] = result.postgres.server
        metadata["postgres_schema"] = result.postgres.schema
    return dg.MaterializeResult(metadata=metadata)
