"""The dbt docs site (``dbt docs generate --static``), regenerated after every dbt build."""

import dagster as dg

from pipelines.defs.analysis import ozg_dbt_analyse_assets
from pipelines.defs.marts import ozg_dbt_assets
from pipelines.resources import OzgSettings
from pipelines.warehouse import generate_dbt_docs


@dg.asset(
    key=["docs", "dbt_docs"],
    group_name="docs",
    deps=[ozg_dbt_assets, ozg_dbt_analyse_assets],
    kinds={"dbt", "html"},
    pool="duckdb",  # dbt opens the warehouse read-write for its catalog: not beside a writer
    description=(
        "dbt docs of the whole project (models, tests, exposures, lineage, the warehouse "
        "catalog) as one static page: data/docs/dbt/index.html."
    ),
)
def dbt_docs(ozg: OzgSettings) -> dg.MaterializeResult:
    settings = ozg.settings()
    page = generate_dbt_docs(settings.data_dir)
    return dg.MaterializeResult(
        metadata={
            "mode": settings.mode,
            "html": dg.MetadataValue.path(str(page)),
            "bytes": page.stat().st_size,
        }
    )
