"""verfuegbarkeit: the Dashboard's availability entries per query ARS and query scope."""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.normalisation import rules
from pipelines.normalisation.normalize import Check, Normalized, Record, normalize_table, shown
from pipelines.quality.contracts import VERFUEGBARKEIT
from sources import dashboard

REFERENCE_FILES = ()
DASHBOARD_RECORD_COLUMNS = list(dashboard.FIELDS)


def normalize_verfuegbarkeit(
    entries: pl.DataFrame, snapshot: date, gebiete: pl.DataFrame, *, sample: bool
) -> Normalized:
    """Dashboard entries (with lineage from ``sources.ingest.read_dashboard``)."""
    known_ars = gebiete.select("ars").unique()
    prepared = entries.with_columns(
        rules.repair_ars(pl.col("ars")).alias("_ars"),
        pl.col("leika_key").str.strip_chars().alias("_leika"),
        rules.map_enum(pl.col("online_status"), rules.ONLINE_STATUS).alias("_status"),
        rules.map_enum(pl.col("aktiv"), rules.AKTIV).alias("_aktiv"),
        rules.map_enum(pl.col("art_flaechendeckung"), rules.FLAECHENDECKUNG).alias("_coverage"),
        rules.parse_date(pl.col("datenstand_pvog_import")).alias("_stand"),
    ).join(
        known_ars.with_columns(pl.lit(True).alias("_known")),
        left_on="_ars",
        right_on="ars",
        how="left",
        maintain_order="left",
    )
    ref = pl.format("{} record {}", pl.col("raw_file"), pl.col("record_index"))
    return normalize_table(
        prepared,
        VERFUEGBARKEIT,
        snapshot,
        source="dashboard",
        sample=sample,
        checks=_checks(_gebietsstand(gebiete)),
        rejected=Record(DASHBOARD_RECORD_COLUMNS, ref),
        select=_select(snapshot, sample),
        # Duplicates: prefer a working entry, then the first one received.
        duplicate_order=[
            (pl.col("online_status") != "ok"),
            pl.col("raw_file"),
            pl.col("record_index"),
        ],
        duplicates=Record(
            [c for c in VERFUEGBARKEIT.columns if c not in ("snapshot", "datenstand")], ref
        ),
    )


def _checks(gebietsstand: str) -> list[Check]:
    return [
        Check(
            pl.col("_leika").is_null() | pl.col("_leika").str.contains(rules.LEIKA_PATTERN).not_(),
            "leika_invalid",
            pl.format("leika_key {} does not match ^99\\d{{12}}$", shown("leika_key")),
        ),
        Check(
            pl.col("_ars").is_null(),
            "ars_invalid",
            pl.format(
                "ars {} is not a 12-digit ARS and cannot be repaired unambiguously", shown("ars")
            ),
        ),
        Check(
            (pl.col("_ars") != rules.BUND_ARS) & pl.col("_known").is_null(),
            rules.ARS_NOT_IN_GEBIETSSTAND,
            pl.format(
                "ars {} is well-formed but not in the Gemeindeverzeichnis of Gebietsstand {}; "
                "a newer edition may know it (OZG_GV100AD_EDITION)",
                pl.col("_ars"),
                pl.lit(gebietsstand),
            ),
        ),
        Check(
            pl.col("_status").is_null(),
            "enum_invalid",
            pl.format("online_status {} is not one of ok, nicht ok", shown("online_status")),
        ),
        Check(
            pl.col("aktiv").is_not_null() & pl.col("_aktiv").is_null(),
            "enum_invalid",
            pl.format("aktiv {} is not one of ja, nein", pl.col("aktiv")),
        ),
        Check(
            pl.col("_coverage").is_null(),
            "enum_invalid",
            pl.format(
                "art_flaechendeckung {} is not in the closed set", shown("art_flaechendeckung")
            ),
        ),
        Check(
            pl.col("datenstand_pvog_import").is_not_null() & pl.col("_stand").is_null(),
            "date_invalid",
            pl.format(
                "datenstand_pvog_import {} is not YYYY-MM-DD, DD.MM.YYYY or ISO date-time",
                pl.col("datenstand_pvog_import"),
            ),
        ),
    ]


def _select(snapshot: date, sample: bool) -> list[pl.Expr]:
    return [
        pl.lit(snapshot).alias("snapshot"),
        pl.col("query_ars"),
        pl.when(pl.col("include_above"))
        .then(pl.lit("above"))
        .otherwise(pl.lit("own"))
        .alias("query_scope"),
        pl.col("_leika").alias("leika_key"),
        rules.clean_text(pl.col("leika_name")).alias("leika_name"),
        pl.col("_ars").alias("ars"),
        rules.clean_text(pl.col("ars_name")).alias("ars_name"),
        rules.ars_ebene(pl.col("_ars")).alias("anbieter_ebene"),
        pl.col("ozgid").cast(pl.String).alias("ozg_id"),
        rules.clean_text(pl.col("ozg_bezeichnung")).alias("ozg_bezeichnung"),
        rules.clean_text(pl.col("url")).alias("url"),
        pl.col("_status").alias("online_status"),
        pl.col("_aktiv").cast(pl.Boolean).alias("aktiv"),
        pl.col("_coverage").alias("art_flaechendeckung"),
        rules.clean_text(pl.col("begruendung_nicht_beruecksichtigt")).alias(
            "begruendung_nicht_beruecksichtigt"
        ),
        pl.col("_stand").alias("datenstand"),
        pl.lit("dashboard").alias("source"),
        pl.col("raw_file"),
        pl.col("raw_sha256"),
        pl.col("record_index"),
        pl.lit(sample).alias("sample"),
    ]


def _gebietsstand(gebiete: pl.DataFrame) -> str:
    """The edition's Gebietsstand as text, for messages ("unbekannt" without rows)."""
    if "gebietsstand" not in gebiete.columns or gebiete.is_empty():
        return "unbekannt"
    return str(gebiete["gebietsstand"].max())
