"""The unit of the roll-out driver analysis: one row per Kommune × Leistung pair with its
censoring interval and covariates (docs/metrics.md §6.16), built from the warehouse.

``read_inputs`` runs a few read-only queries against the dbt warehouse (the roll-out mart,
the availability pairs for the Träger flag, the provider and URL at the first online
snapshot, the Kommunen, the competence mart and three seeds); ``build_pairs`` is a pure
polars function of those frames, so the tests can pass small frames with a known truth.

The unit:

* pairs whose Land-wide first date ``t0_land`` lies **inside** the window (after the Land's
  first snapshot). No such pair can be online at the first snapshot, so left-censored pairs
  are left out by construction (they all belong to Leistungen with a left-censored t0);
* **Träger pairs** only — the Kommune itself is competent (``int_verfuegbarkeit_paare.traeger``):
  a kreisangehörige Gemeinde's pair of a Kreis-level Leistung shows the Landkreis's speed,
  repeated for each of its Gemeinden, not the Gemeinde's own;
* the time origin is the Land's last snapshot **before** t0 (the Land's first adoption lies
  in between); a pair first online at snapshot k is interval-censored in
  (s_{k−1} − origin, s_k − origin] days (the first interval starts at 0), a pair not online
  by the last snapshot s_K is right-censored: (s_K − origin, ∞).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import polars as pl

ANBIETER = ("eigen", "kreis", "land", "bund")  # closest first (docs/metrics.md §6.0)
KEINE_PLATTFORM = "keine"
KEIN_KORB = "kein Korb"
GEMEINDEEBENE, KREISEBENE = "Gemeindeebene", "Kreisebene"
# A Leistung runs on a Land-wide platform when at least this share of its adopted pairs'
# first-online URLs match that platform's pattern.
PLATTFORM_MINDESTANTEIL = 0.5
# Columns of the seed kommune_merkmale that are no attribute.
MERKMAL_SCHLUESSEL = ("ars", "beispiel")


@dataclass(frozen=True)
class Inputs:
    """What the analysis reads, as polars frames (column names as in the warehouse)."""

    rollout: pl.DataFrame  # mart_rollout_kommune_leistung (t0 inside the window)
    paare: pl.DataFrame  # ars, leika_key, traeger, anbieter, url (at the first online snapshot)
    kommunen: pl.DataFrame  # int_kommunen at the Land's last snapshot
    stichtage: pl.DataFrame  # land, snapshot_date (every snapshot of the Land)
    zustaendigkeit: pl.DataFrame  # land, leika_key, landkreis (competent) at the last snapshot
    koerbe: pl.DataFrame  # seed priority_baskets: korb, leika_key
    merkmale: pl.DataFrame  # seed kommune_merkmale: ars, <attributes…>, beispiel
    plattformen: pl.DataFrame  # seed plattform_muster: muster, plattform


# Read by the analysis (the Dagster asset depends on exactly these warehouse relations).
WAREHOUSE_RELATIONS = (
    ("marts", "mart_rollout_kommune_leistung"),
    ("marts", "mart_zustaendigkeit_leistung"),
    ("intermediate", "int_verfuegbarkeit_paare"),
    ("intermediate", "int_kommunen"),
    ("seeds", "priority_baskets"),
    ("seeds", "kommune_merkmale"),
    ("seeds", "plattform_muster"),
)


def read_inputs(con: duckdb.DuckDBPyConnection) -> Inputs:
    """The inputs from a (read-only) connection to the dbt warehouse."""
    rollout = con.sql(
        """
        select land, ars, leika_key, kommunenart, erster_stichtag, letzter_stichtag, t0_land,
               erstmals_online, sample
        from marts.mart_rollout_kommune_leistung
        where t0_land is not null and not t0_links_zensiert
        """
    ).pl()
    paare = con.sql(
        """
        select p.ars, p.leika_key,
               bool_or(p.traeger) as traeger,
               arg_min(p.anbieter, p.snapshot_date) filter (where p.online) as anbieter,
               arg_min(p.url, p.snapshot_date) filter (where p.online) as url
        from intermediate.int_verfuegbarkeit_paare p
        semi join (
            select ars, leika_key from marts.mart_rollout_kommune_leistung
            where t0_land is not null and not t0_links_zensiert
        ) r using (ars, leika_key)
        group by all
        """
    ).pl()
    kommunen = con.sql(
        """
        select land, ars, name, kommunenart, gebietstyp, kreis_ars, bevoelkerung, sample
        from intermediate.int_kommunen
        qualify snapshot_date = max(snapshot_date) over (partition by land)
        """
    ).pl()
    stichtage = con.sql(
        "select distinct land, snapshot_date from intermediate.int_kommunen order by all"
    ).pl()
    zustaendigkeit = con.sql(
        """
        select land, leika_key, landkreis from marts.mart_zustaendigkeit_leistung
        qualify snapshot_date = max(snapshot_date) over (partition by land)
        """
    ).pl()
    return Inputs(
        rollout=rollout,
        paare=paare,
        kommunen=kommunen,
        stichtage=stichtage,
        zustaendigkeit=zustaendigkeit,
        koerbe=con.sql("select korb, leika_key from seeds.priority_baskets").pl(),
        merkmale=con.sql("select * from seeds.kommune_merkmale").pl(),
        plattformen=con.sql("select muster, plattform from seeds.plattform_muster").pl(),
    )


def merkmal_columns(merkmale: pl.DataFrame) -> tuple[list[str], list[str]]:
    """(boolean, numeric) attribute columns of the seed kommune_merkmale, in seed order.
    Text columns (names, notes) are labels and no covariate."""
    booleans, numerics = [], []
    for name, dtype in merkmale.schema.items():
        if name in MERKMAL_SCHLUESSEL:
            continue
        if dtype == pl.Boolean:
            booleans.append(name)
        elif dtype.is_numeric():
            numerics.append(name)
    return booleans, numerics


def build_pairs(inputs: Inputs) -> pl.DataFrame:
    """One row per pair of the unit, sorted by (land, ars, leika_key): identifiers, the
    interval (``untere_grenze_tage``, ``obere_grenze_tage``; ∞ when pending), the end of
    its observation (``beobachtet_bis_tage``: the last snapshot), the months
    since t0 (``monate_seit_t0``: of the first online snapshot, or of the last snapshot when
    pending) and the covariates ``bevoelkerung``, ``gebietstyp``, ``leistungsebene``,
    ``anbieter`` (with ``anbieter_beobachtet``), ``plattform``, ``prioritaetenkorb`` and
    every attribute column of the seed kommune_merkmale."""
    booleans, numerics = merkmal_columns(inputs.merkmale)
    schema_extra = {name: pl.Boolean for name in booleans} | {
        name: inputs.merkmale.schema[name] for name in numerics
    }
    if inputs.rollout.is_empty():
        return _empty_pairs(schema_extra)
    stichtage = _snapshot_index(inputs.stichtage)
    pairs = (
        inputs.rollout.join(
            inputs.paare.filter(pl.col("traeger")), on=["ars", "leika_key"], how="inner"
        )
        .join(
            inputs.kommunen.select(
                "land", "ars", "name", "gebietstyp", "kreis_ars", "bevoelkerung"
            ),
            on=["land", "ars"],
            how="inner",
        )
        .join(_position("t0_land", "k0", stichtage), on=["land", "t0_land"], how="left")
        .join(
            _position("erstmals_online", "k", stichtage), on=["land", "erstmals_online"], how="left"
        )
        .join(
            _position("letzter_stichtag", "k_last", stichtage),
            on=["land", "letzter_stichtag"],
            how="left",
        )
    )
    pairs = pairs.filter(pl.col("k0") >= 1)  # t0 after the Land's first snapshot (the unit)
    for position, name in (
        (pl.col("k0") - 1, "tag_origin"),
        (pl.col("k") - 1, "tag_vorher"),
        (pl.col("k"), "tag_k"),
        (pl.col("k_last"), "tag_last"),
    ):
        days = stichtage.select("land", "i", pl.col("tag").alias(name))
        pairs = pairs.join(days, left_on=["land", position], right_on=["land", "i"], how="left")
        pairs = pairs.drop([c for c in pairs.columns if c.endswith("_right")] + ["i"], strict=False)
    event = pl.col("erstmals_online").is_not_null()
    pairs = pairs.with_columns(
        ereignis=event,
        untere_grenze_tage=pl.when(event & (pl.col("k") == pl.col("k0")))
        .then(0.0)
        .when(event)
        .then((pl.col("tag_vorher") - pl.col("tag_origin")).cast(pl.Float64))
        .otherwise((pl.col("tag_last") - pl.col("tag_origin")).cast(pl.Float64)),
        obere_grenze_tage=pl.when(event)
        .then((pl.col("tag_k") - pl.col("tag_origin")).cast(pl.Float64))
        .otherwise(math.inf),
        beobachtet_bis_tage=(pl.col("tag_last") - pl.col("tag_origin")).cast(pl.Float64),
        monate_seit_t0=pl.when(event)
        .then(pl.col("k") - pl.col("k0"))
        .otherwise(pl.col("k_last") - pl.col("k0"))
        .cast(pl.Int64),
    )
    pairs = _with_anbieter(pairs)
    pairs = _with_plattform(pairs, inputs.plattformen)
    pairs = pairs.join(
        inputs.zustaendigkeit.select(
            "land",
            "leika_key",
            pl.when(pl.col("landkreis"))
            .then(pl.lit(KREISEBENE))
            .otherwise(pl.lit(GEMEINDEEBENE))
            .alias("leistungsebene"),
        ),
        on=["land", "leika_key"],
        how="left",
    ).with_columns(pl.col("leistungsebene").fill_null(GEMEINDEEBENE))
    korb = inputs.koerbe.group_by("leika_key").agg(
        pl.col("korb").sort().first().alias("prioritaetenkorb")
    )
    pairs = pairs.join(korb, on="leika_key", how="left").with_columns(
        pl.col("prioritaetenkorb").fill_null(KEIN_KORB)
    )
    pairs = _with_merkmale(pairs, inputs.merkmale, booleans, numerics)
    return pairs.select(*PAIR_COLUMNS, *booleans, *numerics).sort("land", "ars", "leika_key")


PAIR_COLUMNS = (
    "land",
    "ars",
    "leika_key",
    "name",
    "kommunenart",
    "gebietstyp",
    "kreis_ars",
    "bevoelkerung",
    "t0_land",
    "erstmals_online",
    "ereignis",
    "untere_grenze_tage",
    "obere_grenze_tage",
    "beobachtet_bis_tage",
    "monate_seit_t0",
    "anbieter",
    "anbieter_beobachtet",
    "url",
    "plattform",
    "leistungsebene",
    "prioritaetenkorb",
    "sample",
)


def _empty_pairs(extra: dict[str, pl.DataType]) -> pl.DataFrame:
    schema = {
        "land": pl.String,
        "ars": pl.String,
        "leika_key": pl.String,
        "name": pl.String,
        "kommunenart": pl.String,
        "gebietstyp": pl.String,
        "kreis_ars": pl.String,
        "bevoelkerung": pl.Int64,
        "t0_land": pl.Date,
        "erstmals_online": pl.Date,
        "ereignis": pl.Boolean,
        "untere_grenze_tage": pl.Float64,
        "obere_grenze_tage": pl.Float64,
        "beobachtet_bis_tage": pl.Float64,
        "monate_seit_t0": pl.Int64,
        "anbieter": pl.String,
        "anbieter_beobachtet": pl.Boolean,
        "url": pl.String,
        "plattform": pl.String,
        "leistungsebene": pl.String,
        "prioritaetenkorb": pl.String,
        "sample": pl.Boolean,
    }
    return pl.DataFrame(schema=schema | extra)


def _snapshot_index(stichtage: pl.DataFrame) -> pl.DataFrame:
    """land, snapshot_date, i (0-based position in the Land's snapshots), tag (day number)."""
    return (
        stichtage.select("land", "snapshot_date")
        .unique()
        .sort("land", "snapshot_date")
        .with_columns(
            i=pl.int_range(pl.len()).over("land").cast(pl.Int64),
            tag=pl.col("snapshot_date").cast(pl.Int64),
        )
    )


def _position(column: str, name: str, stichtage: pl.DataFrame) -> pl.DataFrame:
    return stichtage.select("land", pl.col("snapshot_date").alias(column), pl.col("i").alias(name))


def _with_anbieter(pairs: pl.DataFrame) -> pl.DataFrame:
    """The provider level of the entry at the first online snapshot; for a pending pair the
    level most adopted pairs of the same Land, Leistung and Kommunenart have (ties: the
    closest level), else ``eigen``."""
    rang = {a: i for i, a in enumerate(ANBIETER)}
    modal = (
        pairs.filter(pl.col("anbieter").is_not_null())
        .group_by("land", "leika_key", "kommunenart", "anbieter")
        .agg(pl.len().alias("n"))
        .with_columns(rang=pl.col("anbieter").replace_strict(rang, default=len(rang)))
        .sort("n", "rang", descending=[True, False])
        .group_by("land", "leika_key", "kommunenart", maintain_order=True)
        .first()
        .select("land", "leika_key", "kommunenart", pl.col("anbieter").alias("anbieter_modal"))
    )
    return (
        pairs.join(modal, on=["land", "leika_key", "kommunenart"], how="left")
        .with_columns(
            anbieter_beobachtet=pl.col("anbieter").is_not_null(),
            anbieter=pl.coalesce("anbieter", "anbieter_modal", pl.lit(ANBIETER[0])),
        )
        .drop("anbieter_modal")
    )


def _with_plattform(pairs: pl.DataFrame, plattformen: pl.DataFrame) -> pl.DataFrame:
    """``plattform`` per Land × Leistung: the platform whose pattern (a case-insensitive
    regular expression) matches most of the first-online URLs of the Leistung's adopted
    pairs, if at least ``PLATTFORM_MINDESTANTEIL`` of them; else ``keine``. The first row
    of the seed wins where several patterns match one URL."""
    urls = pairs.filter(pl.col("url").is_not_null()).select("land", "leika_key", "url")
    if plattformen.is_empty() or urls.is_empty():
        return pairs.with_columns(plattform=pl.lit(KEINE_PLATTFORM))
    match = pl.lit(None, dtype=pl.String)
    for muster, name in reversed(plattformen.select("muster", "plattform").rows()):
        match = (
            pl.when(pl.col("url").str.contains(f"(?i){muster}")).then(pl.lit(name)).otherwise(match)
        )
    shares = (
        urls.with_columns(treffer=match)
        .group_by("land", "leika_key")
        .agg(
            pl.len().alias("n"),
            pl.col("treffer").drop_nulls().mode().sort().first().alias("kandidat"),
        )
        .join(
            urls.with_columns(treffer=match)
            .group_by("land", "leika_key", "treffer")
            .agg(pl.len().alias("n_treffer")),
            left_on=["land", "leika_key", "kandidat"],
            right_on=["land", "leika_key", "treffer"],
            how="left",
        )
        .select(
            "land",
            "leika_key",
            pl.when(pl.col("n_treffer") >= PLATTFORM_MINDESTANTEIL * pl.col("n"))
            .then(pl.col("kandidat"))
            .otherwise(pl.lit(KEINE_PLATTFORM))
            .alias("plattform"),
        )
    )
    return pairs.join(shares, on=["land", "leika_key"], how="left").with_columns(
        pl.col("plattform").fill_null(KEINE_PLATTFORM)
    )


def _with_merkmale(
    pairs: pl.DataFrame, merkmale: pl.DataFrame, booleans: list[str], numerics: list[str]
) -> pl.DataFrame:
    """Attributes per Kommune: the seed rows with ``beispiel`` = true describe the synthetic
    sample and apply to sample pairs only, the other rows to live pairs only. A Kommune
    without a row (or an empty boolean) counts as ``false``; an empty numeric stays null
    (the analysis leaves such pairs out)."""
    columns = [*booleans, *numerics]
    if not columns:
        return pairs
    beispiel = (
        pl.col("beispiel").fill_null(False) if "beispiel" in merkmale.columns else pl.lit(False)
    )
    rows = (
        merkmale.with_columns(sample=beispiel)
        .select("ars", "sample", *columns)
        .unique(subset=["ars", "sample"], keep="first", maintain_order=True)
    )
    return pairs.join(rows, on=["ars", "sample"], how="left").with_columns(
        pl.col(name).fill_null(False) for name in booleans
    )
