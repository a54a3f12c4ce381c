"""gebiete: every Gebietskörperschaft of the GV100AD."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from pipelines.normalisation import rules
from pipelines.normalisation.normalize import Normalized, Record, normalize_table
from pipelines.quality.contracts import GEBIETE

SONDERSTATUS_CSV = Path(__file__).resolve().parents[1] / "reference" / "sonderstatusstaedte.csv"
# Files besides this module that the table's rows depend on (hashed into its fingerprint).
REFERENCE_FILES = (SONDERSTATUS_CSV,)


def sonderstatus_ags() -> set[str]:
    return set(pl.read_csv(SONDERSTATUS_CSV, infer_schema=False)["ags"])


def normalize_gebiete(
    gv100ad: pl.DataFrame, snapshot: date, *, raw_file: str, raw_sha256: str, sample: bool
) -> Normalized:
    """Every Gebietskörperschaft of the GV100AD (Regionen, Satzart 30, have no ARS and
    are not Gebietskörperschaften; they are counted, not stored). No row is rejected;
    of two records of one ARS and Ebene the first in the file is kept."""
    return normalize_table(
        _gebiete(gv100ad, snapshot, raw_file=raw_file, raw_sha256=raw_sha256, sample=sample),
        GEBIETE,
        snapshot,
        source="destatis_gv100ad",
        sample=sample,
        duplicate_order=[pl.col("line_number")],
        duplicates=Record(
            ["satzart", "ars", "name", "line_number"],
            ref=pl.concat_str(pl.lit("line "), pl.col("line_number")),
        ),
    )


def _gebiete(
    gv100ad: pl.DataFrame, snapshot: date, *, raw_file: str, raw_sha256: str, sample: bool
) -> pl.DataFrame:
    """The records with the table's columns (and the GV100AD's own, for the quarantine)."""
    frame = gv100ad.filter(pl.col("satzart") != "30")
    gemeinden = frame.filter(pl.col("satzart") == "60")
    special = sonderstatus_ags()
    tk = pl.col("textkennzeichen")
    gebietstyp = (
        pl.when(pl.col("satzart") == "10")
        .then(pl.lit("Land"))
        .when(pl.col("satzart") == "20")
        .then(pl.lit("Regierungsbezirk"))
        .when(pl.col("satzart") == "40")
        .then(
            pl.when(tk.is_in(["41", "42"]))
            .then(pl.lit("kreisfreie Stadt"))
            .otherwise(pl.lit("Landkreis"))
        )
        .when(pl.col("satzart") == "50")
        .then(pl.lit("Gemeindeverband"))
        .when(tk.is_in(["61", "62"]))
        .then(pl.lit("kreisfreie Stadt"))
        .when(tk.is_in(["65", "66"]))
        .then(pl.lit("gemeindefreies Gebiet"))
        .when(pl.col("ags").is_in(list(special)))
        .then(pl.lit("Sonderstatusstadt"))
        .when(tk.is_in(["63", "67"]))
        .then(pl.lit("kreisangehörige Stadt"))
        .otherwise(pl.lit("kreisangehörige Gemeinde"))
    )
    ars = pl.col("ars")
    # Population and area of the upper levels are sums over their Gemeinden.
    sums = {
        "land_ars": gemeinden.group_by(pl.col("ars").str.slice(0, 2).alias("k")),
        "regierungsbezirk_ars": gemeinden.group_by(pl.col("ars").str.slice(0, 3).alias("k")),
        "kreis_ars": gemeinden.group_by(pl.col("ars").str.slice(0, 5).alias("k")),
        "verband_ars": gemeinden.group_by(pl.col("ars").str.slice(0, 9).alias("k")),
    }
    totals = {
        name: grouped.agg(
            pl.col("bevoelkerung").sum().alias(f"_pop_{name}"),
            pl.col("flaeche_ha").sum().alias(f"_area_{name}"),
        )
        for name, grouped in sums.items()
    }
    table = frame.with_columns(
        pl.col("name").pipe(rules.clean_text),
        gebietstyp.alias("gebietstyp"),
        pl.when(pl.col("satzart") == "60").then(ars.str.slice(0, 9) + "000").alias("verband_ars"),
        pl.when(pl.col("satzart").is_in(["40", "50", "60"]))
        .then(ars.str.slice(0, 5) + "0" * 7)
        .alias("kreis_ars"),
        pl.when(pl.col("satzart").is_in(["20", "40", "50", "60"]) & (ars.str.slice(2, 1) != "0"))
        .then(ars.str.slice(0, 3) + "0" * 9)
        .alias("regierungsbezirk_ars"),
        (ars.str.slice(0, 2) + "0" * 10).alias("land_ars"),
        pl.lit(snapshot).alias("snapshot"),
        pl.lit("destatis_gv100ad").alias("source"),
        pl.lit(raw_file).alias("raw_file"),
        pl.lit(raw_sha256).alias("raw_sha256"),
        pl.lit(sample).alias("sample"),
        pl.col("ars").str.slice(0, 2).alias("_k2"),
        pl.col("ars").str.slice(0, 3).alias("_k3"),
        pl.col("ars").str.slice(0, 5).alias("_k5"),
        pl.col("ars").str.slice(0, 9).alias("_k9"),
    )
    for name, key in (
        ("land_ars", "_k2"),
        ("regierungsbezirk_ars", "_k3"),
        ("kreis_ars", "_k5"),
        ("verband_ars", "_k9"),
    ):
        table = table.join(
            totals[name].rename({"k": key}), on=key, how="left", maintain_order="left"
        )
    level_sum = {
        "10": "land_ars",
        "20": "regierungsbezirk_ars",
        "40": "kreis_ars",
        "50": "verband_ars",
    }
    population = pl.col("bevoelkerung")
    area = pl.col("flaeche_ha")
    for satzart, name in level_sum.items():
        population = (
            pl.when(pl.col("satzart") == satzart).then(pl.col(f"_pop_{name}")).otherwise(population)
        )
        area = pl.when(pl.col("satzart") == satzart).then(pl.col(f"_area_{name}")).otherwise(area)
    return table.with_columns(population.alias("bevoelkerung"), area.alias("flaeche_ha"))
