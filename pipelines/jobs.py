"""The jobs the asset graph splits into, derived from the assets' partitioning.

A Dagster job has one partitions definition, so there is one ingest job per partitioning
of the partitioned assets, and they run in this order for a snapshot:

* ``ozg_ingest_nationwide`` – every asset partitioned by snapshot only (the nationwide
  raw landings, GV100AD and FIM), one run per snapshot;
* ``ozg_ingest`` – every asset partitioned by Land × snapshot (the per-Land raw landings
  and the normalisation), one run per Land × snapshot partition, after the nationwide
  run of its snapshot; the Land runs of one snapshot are independent of each other;
* ``ozg_publish`` – every other asset (dbt marts, the Metrikverzeichnis and dbt docs,
  publication, reports), unpartitioned: it reads the whole lake and runs **once** after a
  batch of ingest runs, however many partitions the batch held.

An asset added under ``pipelines/defs/`` lands in one of them by its partitioning; nothing
lists assets by name. A new partitioning needs its job here (``INGEST_JOBS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from pipelines.partitions import nationwide_partitions, scope_partitions

NATIONWIDE_JOB = "ozg_ingest_nationwide"
INGEST_JOB = "ozg_ingest"
PUBLISH_JOB = "ozg_publish"


@dataclass(frozen=True)
class IngestJob:
    name: str
    partitions: dg.PartitionsDefinition
    description: str


# In the order they run for one snapshot: a Land × snapshot partition reads the nationwide one.
INGEST_JOBS = (
    IngestJob(
        NATIONWIDE_JOB,
        nationwide_partitions,
        "Nationwide raw landing (GV100AD, FIM) for one snapshot, before its Länder.",
    ),
    IngestJob(
        INGEST_JOB,
        scope_partitions,
        "Raw landing and normalisation (quality gate) for one Land × snapshot.",
    ),
)

# Transient upstream trouble is retried inside the HTTP layer; in scheduled runs a whole
# failed step (e.g. a deadline hit) is retried too and resumes from the landed pages.
# Interactive `ozg run` has no step retries, so a misconfiguration fails fast.
STEP_RETRY = dg.RetryPolicy(
    max_retries=2, delay=60, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


def partitioned_assets(assets: Sequence[object]) -> dict[str, list[dg.AssetsDefinition]]:
    """The partitioned assets by the name of the ingest job of their partitioning."""
    jobs: dict[str, list[dg.AssetsDefinition]] = {}
    for asset in assets:
        if not isinstance(asset, dg.AssetsDefinition) or asset.partitions_def is None:
            continue
        job = next((j for j in INGEST_JOBS if j.partitions == asset.partitions_def), None)
        if job is None:
            raise ValueError(
                f"{', '.join(k.to_user_string() for k in asset.keys)}: no ingest job for its "
                f"partitions {asset.partitions_def!r}; add one to INGEST_JOBS (pipelines/jobs.py)"
            )
        jobs.setdefault(job.name, []).append(asset)
    return jobs


def ingest_selection(assets: Sequence[object]) -> dg.AssetSelection:
    """Every partitioned asset (all ingest jobs together)."""
    partitioned = [asset for group in partitioned_assets(assets).values() for asset in group]
    return dg.AssetSelection.assets(*partitioned)


def build_jobs(
    assets: Sequence[object], *, step_retries: bool = True
) -> list[dg.UnresolvedAssetJobDefinition]:
    """The ingest jobs in their order (those with assets), then the publish job."""
    retry = STEP_RETRY if step_retries else None
    grouped = partitioned_assets(assets)
    ingest = [
        dg.define_asset_job(
            name=job.name,
            selection=dg.AssetSelection.assets(*grouped[job.name]),
            partitions_def=job.partitions,
            op_retry_policy=retry,
            description=job.description,
        )
        for job in INGEST_JOBS
        if job.name in grouped
    ]
    publish = dg.define_asset_job(
        name=PUBLISH_JOB,
        selection=dg.AssetSelection.all() - ingest_selection(assets),
        op_retry_policy=retry,
        description=(
            "dbt marts over the whole lake, Metrikverzeichnis and dbt docs, publication "
            "for BI tools and the workshop reports – once after a batch of ingest runs."
        ),
    )
    return [*ingest, publish]


def ingest_job_names() -> list[str]:
    """The ingest jobs' names in the order they run."""
    return [job.name for job in INGEST_JOBS]
