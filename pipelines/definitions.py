"""Dagster code location of the OZG availability pipeline (loaded by workspace.yaml)."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from pipelines.defs.automation import AUTOMATION
from pipelines.defs.docs import DOC_ASSETS
from pipelines.defs.marts import MART_ASSETS, dbt_resource
from pipelines.defs.normalized import NORMALIZED_ASSETS
from pipelines.defs.publish import PUBLISH_ASSETS
from pipelines.defs.raw import RAW_ASSETS
from pipelines.defs.reports import REPORT_ASSETS
from pipelines.resources import OzgSettings
from sources.config import Settings

PARTITIONED_ASSETS = [*RAW_ASSETS, *NORMALIZED_ASSETS]


# The Data Hub updates monthly (docs/metrics.md §6.12): a snapshot older than 35 days warns,
# older than 45 days fails. Applied to everything the pipeline publishes.
FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(days=45), warn_window=timedelta(days=35)
)
FRESH_GROUPS = ("raw", "normalized", "dbt_marts", "published")


def build_definitions(settings: Settings) -> dg.Definitions:
    definitions = dg.Definitions(
        assets=[*PARTITIONED_ASSETS, *MART_ASSETS, *DOC_ASSETS, *PUBLISH_ASSETS, *REPORT_ASSETS],
        resources={"ozg": OzgSettings.from_settings(settings), "dbt": dbt_resource()},
        jobs=AUTOMATION["jobs"],
        schedules=AUTOMATION["schedules"],
        sensors=AUTOMATION["sensors"],
    )
    return definitions.map_resolved_asset_specs(
        func=lambda spec: dg.apply_freshness_policy(spec, FRESHNESS),
        selection=dg.AssetSelection.groups(*FRESH_GROUPS),
    )


@dg.definitions
def defs() -> dg.Definitions:
    # Read the environment here, not at import time (tests build their own).
    return build_definitions(Settings.from_env())
