"""Raw and normalised assets are partitioned by Land × snapshot.

* ``snapshot``: monthly, keyed by the first day of the month;
* ``land``: the 16 Länder by two-digit code (default Hessen ``06``).

Dagster orders the dimensions by name, so a key reads ``06|2026-01-01``. Sources that do
not depend on the Land (GV100AD, FIM) land once per snapshot; the partitions of other
Länder reuse that landing.
"""

from __future__ import annotations

from datetime import date

import dagster as dg

from sources.config import LAENDER

FIRST_SNAPSHOT = "2025-12-01"

# end_offset=1 makes the current (running) month a partition: a live pull in the
# middle of November lands as snapshot 2026-11-01.
snapshot_partitions = dg.MonthlyPartitionsDefinition(start_date=FIRST_SNAPSHOT, end_offset=1)
land_partitions = dg.StaticPartitionsDefinition(list(LAENDER))
scope_partitions = dg.MultiPartitionsDefinition(
    {"land": land_partitions, "snapshot": snapshot_partitions}
)


def scope_key(land: str, snapshot: date | str) -> dg.MultiPartitionKey:
    value = snapshot.isoformat() if isinstance(snapshot, date) else snapshot
    return dg.MultiPartitionKey({"land": land, "snapshot": value})


def partition_scope(context: dg.AssetExecutionContext) -> tuple[str, date]:
    """(Land, snapshot) of the partition being materialised."""
    keys = context.partition_key.keys_by_dimension  # type: ignore[attr-defined]
    return keys["land"], date.fromisoformat(keys["snapshot"])
