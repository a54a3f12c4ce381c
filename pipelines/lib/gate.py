"""Write-audit-publish for one normalised table and snapshot.

1. stage the partition, the quarantine and the unknown fields of this attempt;
2. validate the staged frame against its great-expectations suite;
3. promote both (atomic renames) only if every blocking expectation passed; otherwise
   move them to ``_rejected/`` for inspection and leave the promoted ones as they were.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from pipelines.lib import quality, rules
from pipelines.lib.lake import Lake
from pipelines.lib.normalize import Normalized

# Share of rows a table may lose (blocking) or gain (warning) against the previous snapshot.
ROW_TOLERANCE = {"gebiete": 0.05, "leistungen": 0.2, "verfuegbarkeit": 0.2, "onlinedienste": 0.2}
ROW_GROWTH = 0.5


class QualityGateFailed(RuntimeError):
    def __init__(self, validation: quality.Validation) -> None:
        super().__init__(validation.summary())
        self.validation = validation


@dataclass(frozen=True)
class GateResult:
    table: str
    snapshot: date
    rows: int
    quarantined: int
    reasons: dict[str, int]
    validation: quality.Validation
    promoted: bool
    path: str
    extra: dict[str, Any] = field(default_factory=dict)


def previous_bounds(lake: Lake, table: str, snapshot: date) -> dict[str, Any]:
    previous = lake.previous_snapshot(table, snapshot)
    if previous is None:
        return {"min_rows_vs_previous": 0, "max_rows_vs_previous": None, "previous_rows": None}
    rows = pl.scan_parquet(lake.partition(table, previous)).select(pl.len()).collect().item()
    tolerance = ROW_TOLERANCE[table]
    return {
        "min_rows_vs_previous": int(rows * (1 - tolerance)),
        "max_rows_vs_previous": int(rows * (1 + ROW_GROWTH)) + 1,
        "previous_rows": rows,
    }


def run_gate(
    lake: Lake,
    table: str,
    snapshot: date,
    normalized: Normalized,
    parameters: dict[str, Any],
    *,
    land: str,
) -> GateResult:
    lake.stage_quarantine(table, snapshot, normalized.quarantine)
    lake.stage_unknown_fields(table, snapshot, normalized.unknown_fields)
    lake.stage(table, snapshot, normalized.table)
    bounds = previous_bounds(lake, table, snapshot)
    validation = quality.validate(
        table,
        normalized.table,
        snapshot.isoformat(),
        {**parameters, **{k: v for k, v in bounds.items() if k != "previous_rows"}},
        land=land,
    )
    _write_validation(lake, validation, normalized, bounds)
    if validation.passed:
        lake.promote_quarantine(table, snapshot)
        lake.promote_unknown_fields(table, snapshot)
        path = lake.promote(table, snapshot)
    else:
        # Keep the rejected attempt (partition and its quarantine) for inspection; the
        # promoted partition and quarantine stay as they were.
        path = lake.staging(table, snapshot)
        rejected = lake.rejected(table, snapshot)
        rejected.parent.mkdir(parents=True, exist_ok=True)
        os.replace(
            lake.quarantine_staging(table, snapshot), rejected.with_name("quarantine.parquet")
        )
        os.replace(
            lake.unknown_fields_staging(table, snapshot),
            rejected.with_name("unknown_fields.parquet"),
        )
        os.replace(path, rejected)
        path = rejected
    return GateResult(
        table=table,
        snapshot=snapshot,
        rows=normalized.table.height,
        quarantined=normalized.quarantine.height,
        reasons=normalized.reasons(),
        validation=validation,
        promoted=validation.passed,
        path=str(path),
        extra={
            "previous_rows": bounds["previous_rows"],
            "unknown_fields": unknown_field_list(normalized),
            "ars_not_in_gebietsstand": ars_not_in_gebietsstand(normalized),
        },
    )


def ars_not_in_gebietsstand(normalized: Normalized) -> dict[str, int]:
    """Quarantined rows per well-formed ARS the Gemeindeverzeichnis edition does not know:
    named in the run summary with its remedy (a newer edition), never lost among the rest."""
    rows = normalized.quarantine.filter(pl.col("reason_code") == rules.ARS_NOT_IN_GEBIETSSTAND)
    if rows.is_empty():
        return {}
    counts = (
        rows.select(pl.col("message").str.extract(r"ars (\d{12})", 1).alias("ars"))
        .group_by("ars")
        .len()
        .sort("ars")
    )
    return {str(ars): int(n) for ars, n in counts.iter_rows()}


def unknown_field_list(normalized: Normalized) -> list[dict[str, Any]]:
    """The unknown fields as plain dicts (validation document, asset metadata)."""
    return normalized.unknown_fields.drop("table", "snapshot", "sample").to_dicts()


def _write_validation(
    lake: Lake, validation: quality.Validation, normalized: Normalized, bounds: dict[str, Any]
) -> None:
    path = lake.validation_path(validation.table, date.fromisoformat(validation.snapshot))
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        **validation.to_dict(),
        "land": lake.land,
        "quarantined": normalized.quarantine.height,
        "quarantine_reasons": normalized.reasons(),
        "unknown_fields": unknown_field_list(normalized),
        "ars_not_in_gebietsstand": ars_not_in_gebietsstand(normalized),
        "previous_rows": bounds["previous_rows"],
        "sample": bool(normalized.table["sample"].any()) if normalized.table.height else None,
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)
