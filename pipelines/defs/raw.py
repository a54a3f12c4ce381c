"""Raw assets: one per upstream source, partitioned as the source lands.

The nationwide sources (GV100AD, FIM) are partitioned by snapshot only: each lands once
per snapshot under ``raw/<source>/<snapshot>/``, in one run, whatever number of Länder
follow. The per-Land sources (Dashboard, PVOG) are partitioned by Land × snapshot under
``raw/land=<LL>/<source>/<snapshot>/`` (``pipelines/partitions.py``).

Thin glue: each asset calls the matching ``sources.ingest.land_*`` function and
reports what landed. The data stay in the raw landing zone (``data/raw``), which
later assets read directly; no IO manager is involved.
"""

import hashlib
from datetime import date

import dagster as dg

from pipelines.partitions import (
    partition_scope,
    partition_snapshot,
    scope_dep,
    source_partitions,
)
from pipelines.resources import OzgSettings
from sources import ingest
from sources.config import Settings
from sources.landing import MANIFEST

RAW_GROUP = "raw"


def _settings(context: dg.AssetExecutionContext, ozg: OzgSettings) -> tuple[Settings, date]:
    land, snapshot = partition_scope(context)
    return ozg.settings().for_land(land), snapshot


def _nationwide(context: dg.AssetExecutionContext, ozg: OzgSettings) -> tuple[Settings, date]:
    # A nationwide source does not read the Land (Settings.raw_root puts it under raw/).
    return ozg.settings(), partition_snapshot(context)


def _result(report: ingest.LandingReport, land: str | None) -> dg.MaterializeResult:
    # The landing manifest lists every response with its sha256: its hash is the version of
    # what landed (a reused landing keeps it, a new pull with other bodies changes it).
    manifest = report.directory / MANIFEST
    return dg.MaterializeResult(
        data_version=dg.DataVersion(hashlib.sha256(manifest.read_bytes()).hexdigest()[:16]),
        metadata={
            "dagster/row_count": dg.MetadataValue.int(report.rows),
            "mode": report.mode,
            "sample": report.sample,
            **({"land": land} if land is not None else {}),
            "rows": dg.MetadataValue.int(report.rows),
            "responses": dg.MetadataValue.int(report.entries),
            "fetched_now": dg.MetadataValue.int(report.fetched_now),
            "queries": dg.MetadataValue.int(report.groups),
            "bytes_received": dg.MetadataValue.int(report.bytes_received),
            "bytes_stored": dg.MetadataValue.int(report.bytes_stored),
            "reused": report.reused,
            "resumed": report.resumed,
            "source_url": dg.MetadataValue.url(report.source_url),
            "landing_dir": dg.MetadataValue.path(str(report.directory)),
            # Additive drift: fields beyond the source contract, kept in the raw landing.
            "unknown_fields": dg.MetadataValue.json(
                [
                    {"source": f.source, "field": f.field, "records": f.records}
                    for f in report.unknown_fields
                ]
            ),
        },
    )


def _tags(kind: str) -> dict[str, str]:
    return {"source_kind": kind}


@dg.asset(
    key=["raw", "destatis_gv100ad"],
    group_name=RAW_GROUP,
    partitions_def=source_partitions("destatis_gv100ad"),
    kinds={"python", "file"},
    tags=_tags("master_data"),
    description=(
        "Destatis Gemeindeverzeichnis GV100AD (zip) as received; nationwide: partitioned "
        "by snapshot, landed once and read by every Land's partition of that snapshot."
    ),
)
def raw_destatis_gv100ad(
    context: dg.AssetExecutionContext, ozg: OzgSettings
) -> dg.MaterializeResult:
    settings, snapshot = _nationwide(context, ozg)
    report = ingest.land_destatis(settings, snapshot, force=ozg.force_refetch)
    return _result(report, None)


@dg.asset(
    key=["raw", "dashboard"],
    group_name=RAW_GROUP,
    partitions_def=source_partitions("dashboard"),
    deps=[scope_dep(raw_destatis_gv100ad)],
    kinds={"python", "file"},
    tags=_tags("availability"),
    description=(
        "Dashboard Digitale Verwaltung open data: own entries of every ARS of the Land "
        "(Bund, Land, Kreise, Gemeinden) and the citizen view for the pilots, all pages "
        "as received."
    ),
)
def raw_dashboard(context: dg.AssetExecutionContext, ozg: OzgSettings) -> dg.MaterializeResult:
    settings, snapshot = _settings(context, ozg)
    landing = ingest.SnapshotLanding(
        settings.raw_root("destatis_gv100ad"),
        "destatis_gv100ad",
        snapshot.isoformat(),
        mode=settings.mode,
    )
    if not landing.is_complete:
        # The nationwide partition is materialised by its own run (pipelines/jobs.py).
        raise dg.Failure(
            description=(
                f"raw/destatis_gv100ad of snapshot {snapshot} is not landed in {landing.dir}; "
                "materialise the snapshot's nationwide partition first"
            ),
            allow_retries=False,
        )
    gv100ad = ingest.read_gv100ad(landing)
    report = ingest.land_dashboard(
        settings, snapshot, ingest.query_ars(gv100ad, settings.land), force=ozg.force_refetch
    )
    return _result(report, settings.land)


@dg.asset(
    key=["raw", "pvog"],
    group_name=RAW_GROUP,
    partitions_def=source_partitions("pvog"),
    kinds={"python", "file"},
    tags=_tags("service_descriptions"),
    description="PVOG Suchdienst service-description CSV (pipe-delimited) per ARS as received.",
)
def raw_pvog(context: dg.AssetExecutionContext, ozg: OzgSettings) -> dg.MaterializeResult:
    settings, snapshot = _settings(context, ozg)
    report = ingest.land_pvog(settings, snapshot, force=ozg.force_refetch)
    return _result(report, settings.land)


@dg.asset(
    key=["raw", "fim"],
    group_name=RAW_GROUP,
    partitions_def=source_partitions("fim"),
    kinds={"python", "file"},
    tags=_tags("catalogue"),
    description=(
        "FIM Portal Leistungssteckbriefe (LeiKa catalogue) pages as received; nationwide: "
        "partitioned by snapshot, landed once and read by every Land's partition of that "
        "snapshot."
    ),
)
def raw_fim(context: dg.AssetExecutionContext, ozg: OzgSettings) -> dg.MaterializeResult:
    settings, snapshot = _nationwide(context, ozg)
    report = ingest.land_fim(settings, snapshot, force=ozg.force_refetch)
    return _result(report, None)
