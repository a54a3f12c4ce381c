"""onlinedienste: PVOG Leistung × Onlinedienst rows."""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.normalisation import rules
from pipelines.normalisation.normalize import Check, Normalized, Record, normalize_table, shown
from pipelines.quality.contracts import ONLINEDIENSTE
from sources import pvog

REFERENCE_FILES = ()


def normalize_onlinedienste(rows: pl.DataFrame, snapshot: date, *, sample: bool) -> Normalized:
    """PVOG Leistung × Onlinedienst rows (from ``sources.ingest.read_pvog``)."""
    ref = pl.format("{} line {}", pl.col("raw_file"), pl.col("line_number"))
    return normalize_table(
        rows.with_columns(pl.col("leika_key").str.strip_chars().alias("_leika")),
        ONLINEDIENSTE,
        snapshot,
        source="pvog",
        sample=sample,
        checks=CHECKS,
        rejected=Record(
            ["id_lb", "leika_key", "name", "name2", "id_od", "bezeichnung_od", "links"], ref
        ),
        select=_select(snapshot, sample),
        duplicate_order=[pl.col("line_number")],
        duplicates=Record(["id_lb", "leika_key", "id_od", "link"], ref),
    )


CHECKS = [
    # Judged after cleaning: a blank ID-LB would otherwise reach the table as null.
    Check(rules.clean_text(pl.col("id_lb")).is_null(), "missing_key", pl.lit("ID-LB is empty")),
    Check(
        pl.col("id_lb").str.contains(pvog.TEST_ID_REGEX),
        rules.TEST_RECORD,
        pl.format("ID-LB {} marks a test record (TEST), not a real Leistung", pl.col("id_lb")),
    ),
    Check(
        pl.col("_leika").is_null() | pl.col("_leika").str.contains(rules.LEIKA_PATTERN).not_(),
        "leika_invalid",
        pl.format("Leikaschlüssel {} does not match ^99\\d{{12}}$", shown("leika_key")),
    ),
]


def _select(snapshot: date, sample: bool) -> list[pl.Expr]:
    return [
        pl.lit(snapshot).alias("snapshot"),
        pl.col("query_ars"),
        rules.clean_text(pl.col("id_lb")).alias("id_lb"),
        pl.col("_leika").alias("leika_key"),
        rules.clean_text(pl.col("name")).alias("leistung_name"),
        rules.clean_text(pl.col("name2")).alias("leistung_name2"),
        pl.col("updatedatum"),
        rules.clean_text(pl.col("id_od")).alias("id_od"),
        rules.clean_text(pl.col("bezeichnung_od")).alias("onlinedienst_name"),
        rules.clean_text(pl.col("links")).alias("link"),
        pl.lit("pvog").alias("source"),
        pl.col("raw_file"),
        pl.col("raw_sha256"),
        pl.col("line_number"),
        pl.lit(sample).alias("sample"),
    ]
