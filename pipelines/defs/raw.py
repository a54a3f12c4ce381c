"""Raw assets: one per upstream source, partitioned by Land × snapshot.

Thin glue: each asset calls the matching ``sources.ingest.land_*`` function and
reports what landed. The data stay in the raw landing zone (``data/raw``), which
later assets read directly; no IO manager is involved.
"""

import hashlib
from datetime import date

import dagster as dg

from pipelines.partitions import partition_scope, scope_partitions
from pipelines.resources import OzgSettings
from sources import ingest
from sources.config import Settings
from sources.landing import MANIFEST

RAW_GROUP = "raw"


def _settings(context: dg.AssetExecutionContext, ozg: OzgSettings) -> tuple[Settings, date]:
    land, snapshot = partition_scope(context)
    return ozg.settings().for_land(land), snapshot


def _result(report: ingest.LandingReport, land: str) -> dg.MaterializeResult:
    # The landing manifest lists every response with its sha256: its hash is the version of
    # what landed (a reused landing keeps it, a new pull with other bodies changes it).
    manifest = report.directory / MANIFEST
    return dg.MaterializeResult(
        data_version=dg.DataVersion(hashlib.sha256(manifest.read_bytes()).hexdigest()[:16]),
        metadata={
            "dagster/row_count": dg.MetadataValue.int(report.rows),
            "mode": report.mode,
            "sample": report.sample,
            "land": land,
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
    partitions_def=scope_partitions,
    kinds={"python", "file"},
    tags=_tags("master_data"),
    description=(
        "Destatis Gemeindeverzeichnis GV100AD (zip) as received; nationwide, landed once "
        "per snapshot and reused by every Land's partition."
    ),
)
def raw_destatis_gv100ad(
    context: dg.AssetExecutionContext, ozg: OzgSettings
) -> dg.MaterializeResult:
    settings, snapshot = _settings(context, ozg)
    report = ingest.land_destatis(settings, snapshot, force=ozg.force_refetch)
    return _result(report, settings.land)


@dg.asset(
    key=["raw", "dashboard"],
    group_name=RAW_GROUP,
    partitions_def=scope_partitions,
    deps=[raw_destatis_gv100ad],
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
    gv100ad = ingest.read_gv100ad(
        ingest.SnapshotLanding(
            settings.raw_root("destatis_gv100ad"),
            "destatis_gv100ad",
            snapshot.isoformat(),
            mode=settings.mode,
        )
    )
    report = ingest.land_dashboard(
        settings, snapshot, ingest.query_ars(gv100ad, settings.land), force=ozg.force_refetch
    )
    return _result(report, settings.land)


@dg.asset(
    key=["raw", "pvog"],
    group_name=RAW_GROUP,
    partitions_def=scope_partitions,
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
    partitions_def=scope_partitions,
    kinds={"python", "file"},
    tags=_tags("catalogue"),
    description=(
        "FIM Portal Leistungssteckbriefe (LeiKa catalogue) pages as received; nationwide, "
        "landed once per snapshot and reused by every Land's partition."
    ),
)
def raw_fim(context: dg.AssetExecutionContext, ozg: OzgSettings) -> dg.MaterializeResult:
    settings, snapshot = _settings(context, ozg)
    report = ingest.land_fim(settings, snapshot, force=ozg.force_refetch)
    return _result(report, settings.land)
