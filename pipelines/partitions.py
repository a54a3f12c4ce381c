"""Snapshots are monthly time partitions keyed by the first day of the month."""

from __future__ import annotations

from datetime import date

import dagster as dg

FIRST_SNAPSHOT = "2025-12-01"

# end_offset=1 makes the current (running) month a partition: a live pull in the
# middle of November lands as snapshot 2026-11-01.
snapshot_partitions = dg.MonthlyPartitionsDefinition(start_date=FIRST_SNAPSHOT, end_offset=1)


def snapshot_date(context: dg.AssetExecutionContext) -> date:
    return date.fromisoformat(context.partition_key)
