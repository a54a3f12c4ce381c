"""Write-audit-publish for one normalised table and snapshot.

1. stage the partition, the quarantine and the unknown fields of this attempt;
2. validate the staged frame against its great-expectations suite;
3. promote all three (atomic renames, ``pipelines/lake.py``) only if every critical
   expectation passed; otherwise move them to ``_rejected/`` for inspection and leave
   the promoted ones as they were.

The validation summary of every attempt goes to ``data/quality/validations/``
(``<land>__<snapshot>__<table>.json``), where the quality report
(``pipelines/quality/report.py``) reads it; great-expectations' own result document goes
next to it (``<land>__<snapshot>__<table>.gx.json``). Both are written atomically.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.lake import Lake
from pipelines.normalisation import rules
from pipelines.normalisation.normalize import Normalized
from pipelines.quality import suites
from sources.crashpoints import crash_point
from sources.files import atomic_write_text

# Share of rows a table may lose (blocking) or gain (warning) against the previous snapshot.
ROW_TOLERANCE = {"gebiete": 0.05, "leistungen": 0.2, "verfuegbarkeit": 0.2, "onlinedienste": 0.2}
ROW_GROWTH = 0.5


class QualityGateFailed(RuntimeError):
    def __init__(self, validation: suites.Validation) -> None:
        super().__init__(validation.summary())
        self.validation = validation


@dataclass(frozen=True)
class GateResult:
    table: str
    snapshot: date
    rows: int
    quarantined: int
    reasons: dict[str, int]
    validation: suites.Validation
    promoted: bool
    path: str
    extra: dict[str, Any] = field(default_factory=dict)
    # Identity of the inputs, code and suite the partition was built from
    # (``tables.input_fingerprint``); the asset's Dagster data version.
    fingerprint: str | None = None


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
    lake.stage(
        table,
        snapshot,
        normalized.table,
        quarantine=normalized.quarantine,
        unknown_fields=normalized.unknown_fields,
    )
    bounds = previous_bounds(lake, table, snapshot)
    started = time.time()
    validation = suites.validate(
        table,
        normalized.table,
        snapshot.isoformat(),
        {**parameters, **{k: v for k, v in bounds.items() if k != "previous_rows"}},
        land=land,
    )
    # When and how long great-expectations ran: lets benchmarks/ tell validation apart from
    # normalisation inside the one normalised asset step.
    timing = {"validation_started_at": started, "validation_s": time.time() - started}
    _write_validation(lake, validation, normalized, bounds, timing)
    # A rejected attempt is kept for inspection; the promoted partition stays as it was.
    crash_point("before_promotion")
    path = lake.promote(table, snapshot) if validation.passed else lake.reject(table, snapshot)
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


def gx_result_path(lake: Lake, table: str, snapshot: date) -> Path:
    """great-expectations' own result document, next to the summary."""
    summary = lake.validation_path(table, snapshot)
    return summary.with_name(summary.name.removesuffix(".json") + suites.GX_RESULT_SUFFIX)


def _write_validation(
    lake: Lake,
    validation: suites.Validation,
    normalized: Normalized,
    bounds: dict[str, Any],
    timing: dict[str, float],
) -> None:
    snapshot = date.fromisoformat(validation.snapshot)
    path = lake.validation_path(validation.table, snapshot)
    if validation.gx_result is not None:
        atomic_write_text(
            gx_result_path(lake, validation.table, snapshot),
            json.dumps(validation.gx_result, ensure_ascii=False, indent=1),
        )
    document = {
        **validation.to_dict(),
        "land": lake.land,
        "quarantined": normalized.quarantine.height,
        "quarantine_reasons": normalized.reasons(),
        "unknown_fields": unknown_field_list(normalized),
        "ars_not_in_gebietsstand": ars_not_in_gebietsstand(normalized),
        "previous_rows": bounds["previous_rows"],
        "timing": timing,
        "sample": bool(normalized.table["sample"].any()) if normalized.table.height else None,
        "gx_result": gx_result_path(lake, validation.table, snapshot).name
        if validation.gx_result is not None
        else None,
    }
    atomic_write_text(path, json.dumps(document, ensure_ascii=False, indent=1))
