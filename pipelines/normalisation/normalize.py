"""The normaliser skeleton every table shares: judge → split → select → deduplicate →
quarantine.

:func:`normalize_table` returns ``Normalized(table, quarantine)``: the good rows in the
table's contract schema (with lineage: source, raw file sha256, sample flag) and the
rejected rows with a reason code, a readable message and a reference to the raw file
and record. Each table's normaliser (``pipelines/normalisation/normalizers/<table>.py``)
keeps only what is its own: its checks, the selection of its columns and the order that
decides which duplicate is kept. The rules are documented in
``pipelines/normalisation/rules.py``, the schemas in ``contracts.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import NamedTuple

import polars as pl

from pipelines.quality.contracts import (
    QUARANTINE_SCHEMA,
    UNKNOWN_FIELDS_SCHEMA,
    TableContract,
)
from sources import contract


@dataclass(frozen=True)
class Normalized:
    table: pl.DataFrame
    quarantine: pl.DataFrame
    # Fields the sources delivered that their contracts do not declare (additive drift):
    # recorded with the partition, never a reason to reject it.
    unknown_fields: pl.DataFrame = field(default_factory=UNKNOWN_FIELDS_SCHEMA.to_frame)

    def with_unknown_fields(
        self, table: str, snapshot: date, logs: list[contract.DriftLog], *, sample: bool
    ) -> Normalized:
        frames = [log.frame() for log in logs]
        found = pl.concat(frames) if frames else contract.UNKNOWN_FIELDS_SCHEMA.to_frame()
        return replace(
            self,
            unknown_fields=found.select(
                pl.lit(table).alias("table"),
                pl.lit(snapshot).alias("snapshot"),
                *contract.UNKNOWN_FIELDS_SCHEMA.names(),
                pl.lit(sample).alias("sample"),
            ).cast(dict(UNKNOWN_FIELDS_SCHEMA)),
        )

    def reasons(self) -> dict[str, int]:
        if self.quarantine.is_empty():
            return {}
        counts = self.quarantine.group_by("reason_code").len().sort("reason_code")
        return dict(counts.iter_rows())


def shown(column: str) -> pl.Expr:
    """A column's value for a message, a null spelt out (``pl.format`` of a null is null,
    and every quarantined row needs a readable message)."""
    return pl.col(column).cast(pl.String).fill_null("null")


class Check(NamedTuple):
    """A row fails when ``failed`` is true: quarantined with ``reason`` and ``message``."""

    failed: pl.Expr
    reason: str
    message: pl.Expr


@dataclass(frozen=True)
class Record:
    """How a quarantined row is recorded: its fields kept as JSON, and where it came from."""

    columns: Sequence[str]
    ref: pl.Expr


def normalize_table(
    frame: pl.DataFrame,
    contract: TableContract,
    snapshot: date,
    *,
    source: str,
    sample: bool,
    checks: Sequence[Check] = (),
    rejected: Record | None = None,
    select: Sequence[pl.Expr] | None = None,
    duplicate_order: Sequence[pl.Expr],
    duplicates: Record,
    finish: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> Normalized:
    """Judge every row of ``frame`` by ``checks`` (the first failing one names the reason),
    ``select`` the good rows' columns (all columns without), keep the first row per grain
    of ``contract`` by ``duplicate_order``, ``finish`` the kept rows (none: as they are),
    and return them in the contract's schema with the rejected rows and the duplicates
    (recorded as ``rejected`` and ``duplicates`` say) in quarantine."""
    if checks:
        if rejected is None:
            raise ValueError(f"{contract.name}: checks need a Record of the rejected rows")
        reason, message = _first_failure(checks)
        judged = frame.with_columns(reason.alias("_reason"), message.alias("_message"))
        failed = judged.filter(pl.col("_reason").is_not_null())
        good = judged.filter(pl.col("_reason").is_null())
    else:
        failed, good = None, frame
    if select is not None:
        good = good.select(select)
    kept, duplicated = _split_duplicates(good, contract.partition_grain, list(duplicate_order))
    parts = []
    if failed is not None and rejected is not None:
        parts.append(_quarantine(contract.name, snapshot, failed, rejected, source, sample))
    parts.append(_quarantine(contract.name, snapshot, duplicated, duplicates, source, sample))
    table = kept if finish is None else finish(kept)
    return Normalized(
        table.select(contract.columns).cast(dict(contract.schema)),
        parts[0] if len(parts) == 1 else pl.concat(parts),
    )


def _record_json(frame: pl.DataFrame, columns: Sequence[str]) -> pl.Series:
    return pl.Series(
        [
            json.dumps(row, ensure_ascii=False, default=str)
            for row in frame.select(columns).to_dicts()
        ],
        dtype=pl.String,
    )


def _quarantine(
    table: str,
    snapshot: date,
    rows: pl.DataFrame,
    record: Record,
    source: str,
    sample: bool,
) -> pl.DataFrame:
    """Rejected rows (with ``_reason`` and ``_message`` columns) in the quarantine schema."""
    if rows.is_empty():
        return QUARANTINE_SCHEMA.to_frame()
    return rows.with_columns(_record=_record_json(rows, record.columns)).select(
        pl.lit(table).alias("table"),
        pl.lit(snapshot).alias("snapshot"),
        pl.col("_reason").alias("reason_code"),
        pl.col("_message").alias("message"),
        pl.lit(source).alias("source"),
        (pl.col("raw_file") if "raw_file" in rows.columns else pl.lit(None, pl.String)).alias(
            "raw_file"
        ),
        pl.col("raw_sha256"),
        record.ref.cast(pl.String).alias("record_ref"),
        pl.col("_record").alias("record"),
        pl.lit(sample).alias("sample"),
    )


def _first_failure(checks: Sequence[Check]) -> tuple[pl.Expr, pl.Expr]:
    """(reason, message) of the first failing check per row; null when all pass."""
    reason = pl.lit(None, pl.String)
    message = pl.lit(None, pl.String)
    for failed, code, text in reversed(checks):
        reason = pl.when(failed).then(pl.lit(code)).otherwise(reason)
        message = pl.when(failed).then(text).otherwise(message)
    return reason, message


def _split_duplicates(
    frame: pl.DataFrame, grain: tuple[str, ...], order: list[pl.Expr]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Keep the first row per grain by ``order``; return (kept, duplicates with reasons)."""
    ranked = frame.with_columns(
        pl.int_range(pl.len()).over(list(grain), order_by=order).alias("_rank")
    )
    duplicates = ranked.filter(pl.col("_rank") > 0).with_columns(
        pl.lit("duplicate").alias("_reason"),
        # Name the duplicated key values, not just the grain columns (nulls spelt out).
        pl.concat_str(
            pl.lit("duplicate of an earlier row on the grain (" + ", ".join(grain) + ") = ("),
            pl.concat_str(
                [pl.col(c).cast(pl.String).fill_null("null") for c in grain], separator=", "
            ),
            pl.lit(")"),
        ).alias("_message"),
    )
    return ranked.filter(pl.col("_rank") == 0).drop("_rank"), duplicates.drop("_rank")
