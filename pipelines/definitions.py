"""Dagster code location of the OZG availability pipeline (loaded by workspace.yaml).

The one composition of the graph: every asset, schedule and sensor defined at module
scope under ``pipelines/defs/`` is loaded from there (adding a module is all it takes),
the jobs are derived from the assets' partitioning (``pipelines/jobs.py``: one ingest job
per partitioning – nationwide, Land × snapshot – and the publish job), the resources are
bound and the freshness policy applied. ``ozg run`` executes the jobs of
these definitions; the UI, the schedule and the sensors use the same.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import dagster as dg

from pipelines.defs.marts import dbt_resource
from pipelines.jobs import build_jobs
from pipelines.resources import OzgSettings
from sources.config import Settings

T = TypeVar("T")

# The Data Hub updates monthly (docs/metrics.md §6.12): a snapshot older than 35 days warns,
# older than 45 days fails. Applied to everything the pipeline publishes.
FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(days=45), warn_window=timedelta(days=35)
)
FRESH_GROUPS = ("raw", "normalized", "dbt_marts", "published")


def build_definitions(
    settings: Settings, *, force_refetch: bool = False, step_retries: bool = True
) -> dg.Definitions:
    """``step_retries=False`` for interactive runs (``ozg run``): a failure surfaces at once."""
    found = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    assets = _unique(found.assets)
    definitions = dg.Definitions(
        assets=assets,
        asset_checks=_unique(found.asset_checks),
        schedules=_unique(found.schedules),
        sensors=_unique(found.sensors),
        jobs=[*_unique(found.jobs), *build_jobs(assets, step_retries=step_retries)],
        resources={
            "ozg": OzgSettings.from_settings(settings, force_refetch=force_refetch),
            "dbt": dbt_resource(),
        },
    )
    with warnings.catch_warnings():
        # Preview API in 1.13 and the documented way to apply a freshness policy to a selection.
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return definitions.map_resolved_asset_specs(
            func=lambda spec: dg.apply_freshness_policy(spec, FRESHNESS),
            selection=dg.AssetSelection.groups(*FRESH_GROUPS),
        )


def _unique(objects: Iterable[T] | None) -> list[T]:
    """Each object once: a module that imports an asset to depend on it exposes it again."""
    return list({id(item): item for item in objects or ()}.values())


@dg.definitions
def defs() -> dg.Definitions:
    # Read the environment here, not at import time (tests build their own).
    return build_definitions(Settings.from_env())
