"""Roll-out drivers: the survival analysis between the dbt marts and the analysis marts.

``analysis/rollout_survival`` reads the warehouse read-only once ``ozg_dbt`` has built the
relations it needs, fits the models (``pipelines.analysis``, Dagster-free) and writes
``data/analysis/*.parquet`` atomically. A second ``@dbt_assets`` over the same dbt project,
``ozg_dbt_analyse`` (the models tagged ``analyse``, which ``ozg_dbt`` excludes), publishes
those files as marts: dbt stays the only writer of the warehouse, and both steps run in the
``duckdb`` pool. Both are unpartitioned and land in ``ozg_publish``.
"""

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.analysis import analysis_dir, pairs, run
from pipelines.defs.marts import ANALYSE_TAG, TRANSLATOR, dbt_build
from pipelines.resources import OzgSettings
from pipelines.warehouse import ensure_manifest, warehouse_path


@dg.asset(
    key=["analysis", "rollout_survival"],
    group_name="analysis",
    deps=[dg.AssetKey(list(relation)) for relation in pairs.WAREHOUSE_RELATIONS],
    kinds={"python", "parquet"},
    pool="duckdb",  # reads the warehouse file: not while dbt writes it
    description=(
        "Roll-out-Treiber: interval-zensierte AFT-Modelle (log-normal, Weibull) je Land, "
        "Kommunen-Effekte und Kaplan–Meier-Kurven aus dem Warehouse (nur lesend) nach "
        "data/analysis/*.parquet (docs/metrics.md §6.16)."
    ),
)
def rollout_survival(context: dg.AssetExecutionContext, ozg: OzgSettings) -> dg.MaterializeResult:
    settings = ozg.settings()
    results, written = run(warehouse_path(settings.data_dir), analysis_dir(settings.data_dir))
    timings = {name: round(seconds, 2) for name, seconds in results.timings.items()}
    context.log.info(f"roll-out drivers: {timings}")
    for land, reason in results.uebersprungen.items():
        context.log.warning(f"roll-out drivers, Land {land}: no results – {reason}")
    models = results.modelle.filter("bevorzugt")
    return dg.MaterializeResult(
        metadata={
            "mode": settings.mode,
            "sample": settings.mode == "sample",
            "laufzeit_s": dg.MetadataValue.float(float(results.timings["gesamt"])),
            "laufzeiten": dg.MetadataValue.json(timings),
            "modell": dg.MetadataValue.json(dict(models.select("land", "modell").rows())),
            "n_paare": int(models["n_paare"].sum()),
            "uebersprungen": dg.MetadataValue.json(results.uebersprungen),
            "files": dg.MetadataValue.json({k: str(v) for k, v in written.items()}),
        }
    )


@dbt_assets(
    manifest=ensure_manifest(),
    dagster_dbt_translator=TRANSLATOR,
    select=f"tag:{ANALYSE_TAG}",
    pool="duckdb",
    name="ozg_dbt_analyse",
)
def ozg_dbt_analyse_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, ozg: OzgSettings
):
    yield from dbt_build(context, dbt, ozg)
