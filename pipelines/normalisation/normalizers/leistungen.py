"""leistungen: one row per valid LeiKa key seen in any source."""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.normalisation import rules
from pipelines.normalisation.normalize import Check, Normalized, Record, normalize_table, shown
from pipelines.quality.contracts import LEISTUNGEN

REFERENCE_FILES = ()

CHECKS = [
    Check(
        pl.col("_leika").is_null() | pl.col("_leika").str.contains(rules.LEIKA_PATTERN).not_(),
        "leika_invalid",
        pl.format("leistungsschluessel {} does not match ^99\\d{{12}}$", shown("leika_key")),
    )
]


def normalize_leistungen(
    catalogue: pl.DataFrame,
    dashboard_entries: pl.DataFrame,
    pvog_rows: pl.DataFrame,
    snapshot: date,
    *,
    sample: bool,
) -> Normalized:
    """One row per valid LeiKa key seen in any source (raw frames from ``sources.ingest``).

    The FIM catalogue is authoritative for catalogue fields; the Dashboard fills names
    and the OZG mapping of keys FIM lacks, and PVOG the names of the rest, so every
    availability key has a Leistung. Invalid keys of the Dashboard and PVOG are
    quarantined with their own tables; here only catalogue items are judged, and of two
    items with one key the first in the catalogue is kept."""
    return normalize_table(
        catalogue.with_columns(pl.col("leika_key").str.strip_chars().alias("_leika")),
        LEISTUNGEN,
        snapshot,
        source="fim",
        sample=sample,
        checks=CHECKS,
        rejected=Record(
            ["leika_key", "title", "ozg_id", "typisierung"],
            ref=pl.format("{} leistungsschluessel {}", pl.col("raw_file"), pl.col("leika_key")),
        ),
        select=[
            pl.col("_leika").alias("leika_key"),
            rules.clean_text(pl.col("title")).alias("fim_name"),
            rules.clean_text(pl.col("leistungsbezeichnung")).alias("fim_bezeichnung"),
            pl.col("ozg_id").str.strip_chars().alias("fim_ozg_id"),
            rules.clean_text(pl.col("ozg_leistung")).alias("fim_ozg_bezeichnung"),
            pl.col("themenfeld"),
            pl.col("typisierung").list.join(";").alias("typisierung"),
            pl.col("leistungsadressat").list.join(";").alias("leistungsadressat"),
            pl.col("raw_file"),
            pl.col("raw_sha256"),
            pl.int_range(pl.len()).alias("_order"),
        ],
        duplicate_order=[pl.col("_order")],
        duplicates=Record(["leika_key", "fim_name"], ref=pl.col("leika_key")),
        finish=lambda fim_rows: _merge(
            fim_rows, dashboard_entries, pvog_rows, snapshot, sample=sample
        ),
    )


def _merge(
    fim_rows: pl.DataFrame,
    dashboard_entries: pl.DataFrame,
    pvog_rows: pl.DataFrame,
    snapshot: date,
    *,
    sample: bool,
) -> pl.DataFrame:
    """The catalogue's kept items, completed by the keys only the Dashboard or PVOG know."""
    valid_key = pl.col("leika_key").str.contains(rules.LEIKA_PATTERN)
    # Most frequent (name, OZG mapping) per key in the availability data (ties: alphabetical).
    dashboard_rows = (
        dashboard_entries.select(
            pl.col("leika_key").str.strip_chars(),
            rules.clean_text(pl.col("leika_name")).alias("leika_name"),
            pl.col("ozgid").cast(pl.String).alias("ozg_id"),
            rules.clean_text(pl.col("ozg_bezeichnung")).alias("ozg_bezeichnung"),
            pl.col("raw_sha256"),
        )
        .filter(valid_key)
        .group_by("leika_key", "leika_name", "ozg_id", "ozg_bezeichnung")
        .agg(pl.len(), pl.col("raw_sha256").first().alias("db_sha256"))
        .sort(["leika_key", "len", "leika_name"], descending=[False, True, False], nulls_last=True)
        .unique("leika_key", keep="first")
        .select(
            "leika_key",
            pl.col("leika_name").alias("db_name"),
            pl.col("ozg_id").alias("db_ozg_id"),
            pl.col("ozg_bezeichnung").alias("db_ozg_bezeichnung"),
            "db_sha256",
            pl.lit(True).alias("_in_dashboard"),
        )
    )
    pvog_names = (
        pvog_rows.select(
            pl.col("leika_key").str.strip_chars(),
            rules.clean_text(pl.col("name")).alias("name"),
            pl.col("raw_sha256"),
        )
        .filter(valid_key)
        .group_by("leika_key")
        .agg(
            pl.col("name").drop_nulls().first().alias("pvog_name"),
            pl.col("raw_sha256").first().alias("pvog_sha256"),
            pl.lit(True).alias("_in_pvog"),
        )
    )
    keys = pl.concat(
        [
            fim_rows.select("leika_key"),
            dashboard_rows.select("leika_key"),
            pvog_names.select("leika_key"),
        ]
    ).unique()
    return (
        keys.join(
            fim_rows.drop("_order", "raw_file")
            .rename({"raw_sha256": "fim_sha256"})
            .with_columns(pl.lit(True).alias("_in_fim")),
            on="leika_key",
            how="left",
            maintain_order="left",
        )
        .join(dashboard_rows, on="leika_key", how="left", maintain_order="left")
        .join(pvog_names, on="leika_key", how="left", maintain_order="left")
        .select(
            pl.lit(snapshot).alias("snapshot"),
            pl.col("leika_key"),
            pl.coalesce("fim_name", "db_name", "pvog_name").alias("leika_name"),
            pl.col("fim_bezeichnung").alias("leika_bezeichnung"),
            pl.coalesce("fim_ozg_id", "db_ozg_id").alias("ozg_id"),
            pl.coalesce("fim_ozg_bezeichnung", "db_ozg_bezeichnung").alias("ozg_bezeichnung"),
            pl.col("themenfeld"),
            pl.col("typisierung"),
            pl.col("leistungsadressat"),
            # Where the key was seen, not whether that source named it (a name may be null).
            pl.col("_in_fim").fill_null(False).alias("in_fim"),
            pl.col("_in_dashboard").fill_null(False).alias("in_dashboard"),
            pl.col("_in_pvog").fill_null(False).alias("in_pvog"),
            pl.when(pl.col("_in_fim"))
            .then(pl.lit("fim"))
            .when(pl.col("_in_dashboard"))
            .then(pl.lit("dashboard"))
            .otherwise(pl.lit("pvog"))
            .alias("source"),
            pl.coalesce("fim_sha256", "db_sha256", "pvog_sha256").alias("raw_sha256"),
            pl.lit(sample).alias("sample"),
        )
        .sort("leika_key")
    )
