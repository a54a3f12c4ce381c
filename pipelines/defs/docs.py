"""The metric dictionary page, regenerated after every dbt build."""

import dagster as dg

from pipelines.dbt_project import dbt_project
from pipelines.defs.analysis import ozg_dbt_analyse_assets
from pipelines.defs.marts import ozg_dbt_assets
from pipelines.publication.metric_dictionary import write_metric_dictionary
from pipelines.resources import OzgSettings


@dg.asset(
    key=["docs", "metrikverzeichnis"],
    group_name="docs",
    deps=[ozg_dbt_assets, ozg_dbt_analyse_assets],
    kinds={"html"},
    description="Metrikverzeichnis (HTML + Markdown) from the dbt mart definitions.",
)
def metrikverzeichnis(ozg: OzgSettings) -> dg.MaterializeResult:
    settings = ozg.settings()
    paths = write_metric_dictionary(
        dbt_project.manifest_path, settings.data_dir / "docs", sample=settings.mode == "sample"
    )
    return dg.MaterializeResult(
        metadata={
            "mode": settings.mode,
            "sample": settings.mode == "sample",
            "html": dg.MetadataValue.path(str(paths[0])),
            "markdown": dg.MetadataValue.path(str(paths[1])),
        }
    )
