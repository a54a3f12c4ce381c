"""The partitions of the raw and normalised assets: by snapshot, and by Land × snapshot.

* ``snapshot``: monthly, keyed by the first day of the month;
* ``land``: the 16 Länder by two-digit code (default Hessen ``06``).

Sources that do not depend on the Land (GV100AD, FIM: ``sources.config``,
``LAND_SPECIFIC_SOURCES``) land once per snapshot under ``raw/<source>/<snapshot>/``: their
raw assets are partitioned by snapshot only (``nationwide_partitions``), so no two
partitions ever write the same landing directory. Every other raw asset and every
normalised table is partitioned by Land × snapshot (``scope_partitions``; Dagster orders the
dimensions by name, so a key reads ``06|2026-01-01``) and reads a nationwide upstream by
the snapshot of its partition (``NATIONWIDE_TO_SCOPE``): the Land partitions of one
snapshot depend on the same nationwide partition and can run side by side once it is there.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from datetime import date
from itertools import product

import dagster as dg

from sources.config import LAENDER, LAND_SPECIFIC_SOURCES

FIRST_SNAPSHOT = "2025-12-01"

# end_offset=1 makes the current (running) month a partition: a live pull in the
# middle of November lands as snapshot 2026-11-01.
snapshot_partitions = dg.MonthlyPartitionsDefinition(start_date=FIRST_SNAPSHOT, end_offset=1)
land_partitions = dg.StaticPartitionsDefinition(list(LAENDER))
scope_partitions = dg.MultiPartitionsDefinition(
    {"land": land_partitions, "snapshot": snapshot_partitions}
)
# The nationwide assets: the snapshot dimension itself (the same definition, the same keys).
nationwide_partitions = snapshot_partitions

# A Land × snapshot partition reads the nationwide partition of its snapshot. (Beta in
# Dagster 1.13 and the documented mapping for exactly this; its warning is not the
# operator's business.)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)
    NATIONWIDE_TO_SCOPE = dg.MultiToSingleDimensionPartitionMapping(
        partition_dimension_name="snapshot"
    )


def source_partitions(source: str) -> dg.PartitionsDefinition:
    """The partitions of a source's raw asset, as the lake lays it out
    (``Settings.raw_root``): per Land × snapshot, or nationwide per snapshot."""
    return scope_partitions if source in LAND_SPECIFIC_SOURCES else nationwide_partitions


def scope_dep(upstream: dg.AssetsDefinition) -> dg.AssetDep:
    """A Land × snapshot asset's dependency on ``upstream``: a nationwide one is read by the
    snapshot of the partition, any other partition by partition."""
    if upstream.partitions_def == nationwide_partitions:
        return dg.AssetDep(upstream, partition_mapping=NATIONWIDE_TO_SCOPE)
    return dg.AssetDep(upstream)


def scope_key(land: str, snapshot: date | str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"land": land, "snapshot": _iso(snapshot)})


def partition_keys(
    partitions: dg.PartitionsDefinition, lands: Iterable[str], snapshots: Iterable[date | str]
) -> list[str]:
    """The keys of ``partitions`` for these Länder and snapshots, each once: Land by Land
    and snapshot by snapshot for Land × snapshot, snapshot by snapshot for nationwide."""
    values = {
        "land": list(dict.fromkeys(lands)),
        "snapshot": list(dict.fromkeys(map(_iso, snapshots))),
    }
    if isinstance(partitions, dg.MultiPartitionsDefinition):
        names = [dimension.name for dimension in partitions.partitions_defs]
        unknown = set(names) - set(values)
        if unknown:
            raise ValueError(f"no values for the partition dimension(s) {sorted(unknown)}")
        return [
            dg.MultiPartitionKey(dict(zip(names, combination, strict=True)))
            for combination in product(*(values[name] for name in names))
        ]
    if partitions == nationwide_partitions:
        return values["snapshot"]
    raise ValueError(f"unknown partitions definition {partitions!r}")


def partition_scope(context: dg.AssetExecutionContext) -> tuple[str, date]:
    """(Land, snapshot) of the Land × snapshot partition being materialised."""
    keys = context.partition_key.keys_by_dimension  # type: ignore[attr-defined]
    return keys["land"], date.fromisoformat(keys["snapshot"])


def partition_snapshot(context: dg.AssetExecutionContext) -> date:
    """The snapshot of the nationwide partition being materialised."""
    return date.fromisoformat(context.partition_key)


def _iso(snapshot: date | str) -> str:
    return snapshot.isoformat() if isinstance(snapshot, date) else snapshot
