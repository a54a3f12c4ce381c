"""Dagster code location of the OZG availability pipeline (loaded by workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.automation import AUTOMATION
from pipelines.defs.docs import DOC_ASSETS
from pipelines.defs.marts import MART_ASSETS, dbt_resource
from pipelines.defs.normalized import NORMALIZED_ASSETS
from pipelines.defs.publish import PUBLISH_ASSETS
from pipelines.defs.raw import RAW_ASSETS
from pipelines.resources import OzgSettings
from sources.config import Settings

PARTITIONED_ASSETS = [*RAW_ASSETS, *NORMALIZED_ASSETS]


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[*PARTITIONED_ASSETS, *MART_ASSETS, *DOC_ASSETS, *PUBLISH_ASSETS],
        resources={"ozg": OzgSettings.from_settings(settings), "dbt": dbt_resource()},
        jobs=AUTOMATION["jobs"],
        schedules=AUTOMATION["schedules"],
        sensors=AUTOMATION["sensors"],
    )


@dg.definitions
def defs() -> dg.Definitions:
    # Read the environment here, not at import time (tests build their own).
    return build_definitions(Settings.from_env())
