"""The dbt marts on the full sample: ground truth recovery, an independent recount,
the pilot comparison, the metric dictionary and the dbt docs page.

One full `ozg run` (12 snapshots, ~3 minutes) is shared by every test in this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.warehouse import dbt_docs_path
from sources.config import PILOT_ARS
from sources.sample.generator import SAMPLE_SNAPSHOTS, build_universe

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "sources" / "sample" / "catalogue.csv"

pytestmark = pytest.mark.slow  # full_sample_run


@pytest.fixture(scope="module")
def data_dir(full_sample_run: Path) -> Path:
    return full_sample_run


@pytest.fixture(scope="module")
def warehouse(data_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(data_dir / "warehouse" / "ozg.duckdb"), read_only=True)
    yield connection
    connection.close()


def test_rollout_recovers_the_ground_truth_exactly(warehouse: duckdb.DuckDBPyConnection) -> None:
    truth = (
        build_universe()
        .ground_truth()
        .select("ars", "leika_key", "first_online_snapshot", "left_censored")
    )
    mart = warehouse.sql(
        "select ars, leika_key, erstmals_online, links_zensiert "
        "from marts.mart_rollout_kommune_leistung"
    ).pl()
    joined = truth.join(mart, on=["ars", "leika_key"], how="full", coalesce=True)
    assert truth.height == mart.height == joined.height > 100_000
    assert joined.filter(
        pl.col("first_online_snapshot").ne_missing(pl.col("erstmals_online"))
    ).is_empty()
    assert joined.filter(
        pl.col("left_censored").ne_missing(pl.col("links_zensiert").fill_null(False))
    ).is_empty()


def partition(data_dir: Path, table: str, snapshot: date, land: str = "06") -> Path:
    """A promoted partition of the lake: normalized/<table>/land=<LL>/snapshot=<date>/."""
    return (
        data_dir
        / "normalized"
        / table
        / f"land={land}"
        / f"snapshot={snapshot.isoformat()}"
        / "data.parquet"
    )


def _independent_counts(data_dir: Path, snapshot: date) -> pl.DataFrame:
    """Citizen-view availability per Gemeinde from the normalised Parquet and the sample
    catalogue's own competence columns — no dbt model or seed involved."""
    gebiete = pl.read_parquet(partition(data_dir, "gebiete", snapshot))
    entries = pl.read_parquet(partition(data_dir, "verfuegbarkeit", snapshot))
    gemeinden = gebiete.filter(
        (pl.col("land") == "06") & (pl.col("ebene") == "Gemeinde") & (pl.col("bevoelkerung") > 0)
    ).select("ars", "kreis_ars", "gebietstyp")
    catalogue = pl.read_csv(CATALOGUE, infer_schema=False).select("leika_key", "vollzug")
    # A Gemeinde's residents need Gemeinde and Kreis services (the Kreis or, for kreisfreie
    # Städte and Sonderstatusstädte, the city itself executes the latter).
    needed = gemeinden.join(
        catalogue.filter(pl.col("vollzug").is_in(["gemeinde", "kreis"])), how="cross"
    )
    online = (
        entries.filter(
            (pl.col("query_scope") == "own")
            & pl.col("url").is_not_null()
            & (pl.col("url") != "")
            & (pl.col("online_status") == "ok")
        )
        .select("ars", "leika_key")
        .unique()
    )
    providers = pl.concat(
        [
            needed.select("ars", "leika_key", pl.col("ars").alias("provider")),
            needed.select("ars", "leika_key", pl.col("kreis_ars").alias("provider")),
            needed.select("ars", "leika_key", pl.lit("060000000000").alias("provider")),
            needed.select("ars", "leika_key", pl.lit("000000000000").alias("provider")),
        ]
    )
    reached = (
        providers.join(online.rename({"ars": "provider"}), on=["provider", "leika_key"], how="semi")
        .select("ars", "leika_key")
        .unique()
    )
    return (
        needed.group_by("ars")
        .agg(pl.len().alias("n_anwendbar"))
        .join(reached.group_by("ars").agg(pl.len().alias("n_online")), on="ars", how="left")
        .with_columns(pl.col("n_online").fill_null(0))
    )


@pytest.mark.parametrize(
    "snapshot", [SAMPLE_SNAPSHOTS[0], SAMPLE_SNAPSHOTS[6], SAMPLE_SNAPSHOTS[-1]]
)
def test_availability_counts_equal_an_independent_polars_count(
    data_dir: Path, warehouse: duckdb.DuckDBPyConnection, snapshot: date
) -> None:
    expected = _independent_counts(data_dir, snapshot).sort("ars")
    mart = (
        warehouse.execute(
            "select ars, n_anwendbar, n_online from marts.mart_verfuegbarkeit_kommune "
            "where perspektive = 'buerger' and snapshot_date = ? order by ars",
            [snapshot],
        )
        .pl()
        .with_columns(pl.col("n_anwendbar").cast(pl.UInt32), pl.col("n_online").cast(pl.UInt32))
    )
    assert expected.height == 421
    assert mart.equals(expected.select("ars", "n_anwendbar", "n_online"))


def test_pilot_comparison_shows_six_pilots_with_sensible_figures(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    rows = warehouse.sql(
        "select ars, snapshot_date, perspektive, quote_online, peer_n, peer_median, "
        "land_median, n_anwendbar, sample, definition_version from marts.mart_pilotvergleich"
    ).pl()
    assert set(rows["ars"]) == set(PILOT_ARS)
    assert rows["snapshot_date"].n_unique() == len(SAMPLE_SNAPSHOTS)
    # Gemeinden have both perspectives, Landkreise only the Träger view.
    per_pilot = rows.group_by("ars").agg(pl.col("perspektive").unique().sort())
    expected = {
        ars: (["traeger"] if name.lower().endswith("kreis") else ["buerger", "traeger"])
        for ars, name in PILOT_ARS.items()
    }
    assert dict(per_pilot.iter_rows()) == expected
    assert rows["quote_online"].is_between(0, 1).all()
    assert (rows["peer_n"] >= 5).all()
    assert rows["sample"].all()
    assert set(rows["definition_version"]) == {"v1"}
    # Wiesbaden and Kassel are compared with the 5 kreisfreie Städte, the two Landkreise
    # with all 21 Landkreise.
    peers = dict(
        rows.filter(pl.col("perspektive") == "traeger")
        .group_by("ars")
        .agg(pl.col("peer_n").max())
        .iter_rows()
    )
    assert peers["064140000000"] == peers["066110000000"] == 5
    assert peers["064390000000"] == peers["064400000000"] == 21


def test_every_mart_carries_the_land_of_its_rows(warehouse: duckdb.DuckDBPyConnection) -> None:
    columns = warehouse.sql(
        "select table_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and column_name = 'land'"
    ).fetchall()
    marts = warehouse.sql(
        "select table_name from information_schema.tables where table_schema = 'marts'"
    ).fetchall()
    assert {t for t, _ in columns} == {t for (t,) in marts}
    assert {d for _, d in columns} == {"VARCHAR"}  # "06", never the integer 6
    for table, _ in columns:
        lands = warehouse.sql(f"select distinct land from marts.{table}").fetchall()
        assert lands in ([("06",)], []), table  # [] where nothing disagrees with the API
    groups = warehouse.sql(
        "select distinct peer_gruppe from marts.mart_peer_vergleich order by 1"
    ).fetchall()
    assert len(groups) > 3 and all(g.startswith("06|") for (g,) in groups)


def test_reconstructed_citizen_view_matches_the_api(warehouse: duckdb.DuckDBPyConnection) -> None:
    rows = warehouse.sql(
        "select ars, n_online_api, n_nur_api, n_nur_rekonstruiert "
        "from marts.mart_abgleich_buergersicht"
    ).pl()
    assert set(rows["ars"]) == set(PILOT_ARS)
    assert (rows["n_online_api"] > 0).all()
    assert (rows["n_nur_api"] == 0).all() and (rows["n_nur_rekonstruiert"] == 0).all()


def test_metric_dictionary_lists_every_mart_column(
    data_dir: Path, warehouse: duckdb.DuckDBPyConnection
) -> None:
    page = (data_dir / "docs" / "metrikverzeichnis.html").read_text(encoding="utf-8")
    markdown = (data_dir / "docs" / "metrikverzeichnis.md").read_text(encoding="utf-8")
    columns = warehouse.sql(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts'"
    ).fetchall()
    assert len(columns) > 150
    for table, column in columns:
        assert f"marts.{table}" in page
        assert f"<code>{column}</code>" in page
        assert f"`{column}`" in markdown
    assert "Beispieldaten – synthetisch, keine amtlichen Zahlen" in page
    assert "n_online / n_anwendbar" in page  # a formula from the column meta


def test_the_run_writes_the_dbt_docs_page(data_dir: Path) -> None:
    html = dbt_docs_path(data_dir).read_text(encoding="utf-8")  # the docs/dbt_docs asset
    assert "exposure.ozg.steckbriefe" in html  # the project (manifest) …
    assert '"land_median": {"type": "DOUBLE"' in html  # … and the built warehouse's catalog
