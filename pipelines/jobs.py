"""The two jobs the asset graph splits into, derived from the assets themselves.

* ``ozg_ingest`` – every partitioned asset (raw landing and normalisation), one run per
  Land × snapshot partition;
* ``ozg_publish`` – every other asset (dbt marts, the Metrikverzeichnis and dbt docs,
  publication, reports), unpartitioned: it reads the whole lake and runs **once** after a
  batch of ingest runs, however many partitions the batch held.

An asset added under ``pipelines/defs/`` lands in one of the two by its partitioning;
nothing lists assets by name.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

INGEST_JOB = "ozg_ingest"
PUBLISH_JOB = "ozg_publish"

# Transient upstream trouble is retried inside the HTTP layer; in scheduled runs a whole
# failed step (e.g. a deadline hit) is retried too and resumes from the landed pages.
# Interactive `ozg run` has no step retries, so a misconfiguration fails fast.
STEP_RETRY = dg.RetryPolicy(
    max_retries=2, delay=60, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


def ingest_selection(assets: Sequence[object]) -> dg.AssetSelection:
    partitioned = [
        asset
        for asset in assets
        if isinstance(asset, dg.AssetsDefinition) and asset.partitions_def is not None
    ]
    return dg.AssetSelection.assets(*partitioned)


def build_jobs(
    assets: Sequence[object], *, step_retries: bool = True
) -> list[dg.UnresolvedAssetJobDefinition]:
    ingest = ingest_selection(assets)
    retry = STEP_RETRY if step_retries else None
    return [
        dg.define_asset_job(
            name=INGEST_JOB,
            selection=ingest,
            op_retry_policy=retry,
            description="Raw landing and normalisation (quality gate) for one Land × snapshot.",
        ),
        dg.define_asset_job(
            name=PUBLISH_JOB,
            selection=dg.AssetSelection.all() - ingest,
            op_retry_policy=retry,
            description=(
                "dbt marts over the whole lake, Metrikverzeichnis and dbt docs, publication "
                "for BI tools and the workshop reports – once after a batch of ingest runs."
            ),
        ),
    ]
