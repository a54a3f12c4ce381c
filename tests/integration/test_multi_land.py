"""Metamorphic test: the marts compare every Land only within itself.

One real ``ozg run`` on the whole sample builds the lake (Hessen, ``land=06``) and the
single-Land warehouse (~3.5 minutes). Its Land partitions are then copied as two fictitious
Länder next to Hessen, and ``dbt build`` runs over the three-Land lake (~1 minute), with the
roll-out driver analysis between the marts and the analysis marts as in the publish job:

* ``07`` — an exact twin: every Land code 06 at the start of an ARS, AGS, Land code or peer
  key becomes 07. In the copied Gemeindeverzeichnis the codes 06 and 07 are swapped, so the
  real Rheinland-Pfalz rows are kept (as "06", which that partition ignores) and every Land
  partition still holds a whole directory of the same size.
* ``08`` — a twin whose own entries are partly broken (the Gemeinden with an odd last ARS
  digit lose their URLs), so its figures differ from Hessen's: a median, rank or t0 computed
  across Länder would move Hessen's figures.

The Bund's queries are in every copy, as in the real lake. Then

(a) every Hessen mart row equals the single-Land build's, column for column;
(b) every Land-07 mart row equals its Hessen twin relabelled (twins are no pilots: the pilot
    seed lists Hessian ARS, so ``mart_pilotvergleich`` stays Hessian; the fixture gives the
    copies' Kommunen their Hessian twins' attributes from the seed ``kommune_merkmale`` for
    the roll-out driver analysis);
(c) peer groups, Land medians, ranks, t0 and Land coverage are recomputed from the mart rows
    of each Land alone and match, and Land 08 really differs from Hessen;
(d) the workshop reports built from the three-Land marts equal those from Hessen's alone.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from openpyxl import load_workbook

from pipelines import analysis
from pipelines.analysis import pairs as analysis_pairs
from pipelines.reports import build_reports
from pipelines.warehouse import DBT_PROJECT_DIR, dbt_environment, dbt_executable

ANALYSE_TAG = "analyse"  # pipelines/defs/marts.py: the models built after the analysis

ROOT = Path(__file__).resolve().parents[2]
HESSEN = "06"
TWIN = "07"
PERTURBED = "08"
TABLES = ("gebiete", "leistungen", "verfuegbarkeit", "onlinedienste")
# Columns of the normalised tables that carry a Land code at their start.
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "gebiete": (
        "ars",
        "ags",
        "verband_ars",
        "kreis_ars",
        "regierungsbezirk_ars",
        "land_ars",
        "land",
    ),
    "leistungen": (),
    "verfuegbarkeit": ("query_ars", "ars"),
    "onlinedienste": ("query_ars",),
}

pytestmark = pytest.mark.slow


# -- building the multi-Land lake ---------------------------------------------------------------


def relabel(
    frame: pl.DataFrame, columns: tuple[str, ...], land: str, *, swap: bool
) -> pl.DataFrame:
    """Land code 06 → ``land`` at the start of ``columns``; with ``swap`` also ``land`` → 06."""
    changes = []
    for name in columns:
        column = pl.col(name)
        changed = pl.when(column.str.starts_with(HESSEN)).then(pl.lit(land) + column.str.slice(2))
        if swap:
            changed = changed.when(column.str.starts_with(land)).then(
                pl.lit(HESSEN) + column.str.slice(2)
            )
        changes.append(changed.otherwise(column).alias(name))
    return frame.with_columns(changes) if changes else frame


def break_entries(frame: pl.DataFrame) -> pl.DataFrame:
    """Own entries of the Gemeinden with an odd last ARS digit lose their URL."""
    odd = pl.col("query_ars").str.slice(11, 1).cast(pl.Int32) % 2 == 1
    broken = (pl.col("query_scope") == "own") & odd
    return frame.with_columns(pl.when(broken).then(None).otherwise(pl.col("url")).alias("url"))


def add_land(lake: Path, land: str, *, perturb: bool = False) -> None:
    """Copy every Hessen partition of ``lake`` (normalised, quarantine, unknown fields) as
    Land ``land``."""
    for table in TABLES:
        for source in sorted(
            (lake / "normalized" / table / f"land={HESSEN}").glob("*/data.parquet")
        ):
            frame = relabel(
                pl.read_parquet(source), KEY_COLUMNS[table], land, swap=table == "gebiete"
            )
            if perturb and table == "verfuegbarkeit":
                frame = break_entries(frame)
            target = lake / "normalized" / table / f"land={land}" / source.parent.name
            target.mkdir(parents=True)
            frame.write_parquet(target / "data.parquet")
    for source in sorted(
        [
            *lake.glob(f"quarantine/*/land={HESSEN}/*/data.parquet"),
            *lake.glob(f"quality/unknown_fields/*/land={HESSEN}/*/data.parquet"),
        ]
    ):
        target = source.parents[2] / f"land={land}" / source.parent.name
        target.mkdir(parents=True)
        # The rejected rows name their ARS in the text (message, record, raw file): relabel
        # those too, so the twin's quarantine is Hessen's as Land ``land`` would have it.
        frame = pl.read_parquet(source)
        text = [c for c in ("message", "record", "record_ref", "raw_file") if c in frame.columns]
        frame = frame.with_columns(
            pl.col(c).str.replace_all(rf"\b{HESSEN}(\d{{10}})\b", f"{land}$1") for c in text
        )
        frame.write_parquet(target / "data.parquet")


def copy_lake(data_dir: Path, target: Path) -> None:
    """The promoted partitions with their quarantine and unknown fields (nothing else)."""
    for path in [
        *data_dir.glob("normalized/*/land=*/*/data.parquet"),
        *data_dir.glob("quarantine/*/land=*/*/data.parquet"),
        *data_dir.glob("quality/unknown_fields/*/land=*/*/data.parquet"),
    ]:
        if path.relative_to(data_dir).parts[1].startswith("_"):
            continue  # staging and rejected attempts are no part of the lake
        copy = target / path.relative_to(data_dir)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(path.read_bytes())


def dbt_build(data_dir: Path, work: Path, *selection: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OZG_")}
    env.update(dbt_environment(data_dir))
    (data_dir / "warehouse").mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [
            dbt_executable(),
            "build",
            *selection,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )


# -- comparing marts ----------------------------------------------------------------------------


def marts(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, dict[str, str]]:
    """Mart → column → type, in column order."""
    found: dict[str, dict[str, str]] = {}
    for table, column, data_type in con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = 'marts' order by table_name, ordinal_position",
        [catalog],
    ).fetchall():
        found.setdefault(table, {})[column] = data_type
    return found


def difference(con: duckdb.DuckDBPyConnection, left: str, right: str) -> tuple[int, int]:
    """Rows only in ``left`` and only in ``right`` (multisets, exact values)."""
    only_left = con.execute(f"select count(*) from ({left} except all {right})").fetchone()
    only_right = con.execute(f"select count(*) from ({right} except all {left})").fetchone()
    assert only_left is not None and only_right is not None
    return only_left[0], only_right[0]


def twin_select(mart: str, columns: dict[str, str], land: str) -> str:
    """Hessen's rows of ``mart`` as Land ``land`` would show them: every key starting with the
    Land code relabelled; a twin of a pilot is no pilot."""
    expressions = []
    for name, data_type in columns.items():
        quoted = f'"{name}"'
        if name == "ist_pilot":
            expressions.append(f"false as {quoted}")
        elif data_type == "VARCHAR":
            expressions.append(
                f"regexp_replace({quoted}, '^{HESSEN}([0-9]{{10}}$|[|]|$)', '{land}\\1') "
                f"as {quoted}"
            )
        else:
            expressions.append(quoted)
    return f"select {', '.join(expressions)} from multi.marts.{mart} where land = '{HESSEN}'"


def select_land(mart: str, columns: dict[str, str], catalog: str, land: str) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    return f"select {names} from {catalog}.marts.{mart} where land = '{land}'"


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def single(full_sample_run: Path) -> Path:
    """The real pipeline on the whole sample: Hessen's lake and warehouse (read only)."""
    lake = full_sample_run / "normalized" / "verfuegbarkeit" / f"land={HESSEN}"
    assert list(lake.glob("snapshot=*/data.parquet"))
    return full_sample_run


@pytest.fixture(scope="module")
def multi(single: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Hessen, its twin 07 and the perturbed twin 08 in one lake, built with dbt."""
    data = tmp_path_factory.mktemp("multi_land")
    copy_lake(single, data)
    add_land(data, TWIN)
    add_land(data, PERTURBED, perturb=True)
    # As the publish job runs it: the marts, the roll-out driver analysis on them (every Land
    # on its own), then the marts that publish the analysis.
    work = tmp_path_factory.mktemp("multi_land_dbt")
    done = dbt_build(data, work, "--exclude", f"tag:{ANALYSE_TAG}")
    assert done.returncode == 0, done.stdout[-3000:]
    with duckdb.connect(str(data / "warehouse" / "ozg.duckdb"), read_only=True) as warehouse:
        inputs = analysis_pairs.read_inputs(warehouse)
    # The copies' Kommunen get the attributes of their Hessian twins in place of the seed's
    # rows of the real Länder 07 and 08 (the nationwide sample lists every Land's Kommunen).
    merkmale = inputs.merkmale
    hessen = merkmale.filter(pl.col("ars").str.starts_with(HESSEN))
    copies = [
        hessen.with_columns(pl.col("ars").str.replace(f"^{HESSEN}", land))
        for land in (TWIN, PERTURBED)
    ]
    kept = merkmale.filter(~pl.col("ars").str.slice(0, 2).is_in([TWIN, PERTURBED]))
    inputs = dataclasses.replace(inputs, merkmale=pl.concat([kept, *copies]))
    results, _ = analysis.analyse(inputs)
    analysis.write_results(results, analysis.analysis_dir(data))
    assert set(results.modelle["land"]) == {HESSEN, TWIN, PERTURBED}
    done = dbt_build(data, work, "--select", f"tag:{ANALYSE_TAG}")
    assert done.returncode == 0, done.stdout[-3000:]
    return data


@pytest.fixture(scope="module")
def con(single: Path, multi: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute(f"attach '{single / 'warehouse' / 'ozg.duckdb'}' as single (read_only)")
    connection.execute(f"attach '{multi / 'warehouse' / 'ozg.duckdb'}' as multi (read_only)")
    yield connection
    connection.close()


# -- (a), (b): metamorphic relations ------------------------------------------------------------


def test_every_mart_covers_the_three_laender(con: duckdb.DuckDBPyConnection) -> None:
    single_marts, multi_marts = marts(con, "single"), marts(con, "multi")
    assert single_marts == multi_marts  # same marts, columns and types
    assert len(multi_marts) >= 13
    for mart, columns in multi_marts.items():
        assert columns.get("land") == "VARCHAR", mart
        lands = {
            row[0]
            for row in con.execute(f"select distinct land from multi.marts.{mart}").fetchall()
        }
        if mart == "mart_pilotvergleich":
            assert lands == {HESSEN}
        elif mart == "mart_flaechendeckung_abweichungen":
            assert lands <= {HESSEN, TWIN, PERTURBED}  # empty when all agree with the API
        else:
            assert lands == {HESSEN, TWIN, PERTURBED}, mart
        single_lands = con.execute(f"select distinct land from single.marts.{mart}").fetchall()
        assert single_lands in ([(HESSEN,)], []), mart


def test_hessen_rows_equal_the_single_land_build(con: duckdb.DuckDBPyConnection) -> None:
    for mart, columns in marts(con, "multi").items():
        single_rows = select_land(mart, columns, "single", HESSEN)
        multi_rows = select_land(mart, columns, "multi", HESSEN)
        (count,) = con.execute(f"select count(*) from ({single_rows})").fetchone()  # type: ignore[misc]
        assert difference(con, single_rows, multi_rows) == (0, 0), mart
        (total,) = con.execute(f"select count(*) from single.marts.{mart}").fetchone()  # type: ignore[misc]
        assert count == total, mart


def test_twin_rows_equal_hessen_relabelled(con: duckdb.DuckDBPyConnection) -> None:
    compared = 0
    for mart, columns in marts(con, "multi").items():
        twin_rows = select_land(mart, columns, "multi", TWIN)
        if mart == "mart_pilotvergleich":
            assert con.execute(f"select count(*) from ({twin_rows})").fetchone() == (0,)
            continue
        assert difference(con, twin_select(mart, columns, TWIN), twin_rows) == (0, 0), mart
        (count,) = con.execute(f"select count(*) from ({twin_rows})").fetchone()  # type: ignore[misc]
        compared += count
    assert compared > 300_000


# -- (c): every figure from its own Land --------------------------------------------------------


def test_keys_belong_to_the_rows_land(con: duckdb.DuckDBPyConnection) -> None:
    for mart, columns in marts(con, "multi").items():
        for key in ("ars", "gebiet_ars", "kreis_ars", "peer_gruppe"):
            if key in columns:
                wrong = con.execute(
                    f"select count(*) from multi.marts.{mart} where left({key}, 2) <> land"
                ).fetchone()
                assert wrong == (0,), (mart, key)


def test_peer_groups_and_land_medians_hold_one_land(con: duckdb.DuckDBPyConnection) -> None:
    for window, n, median in (
        ("peer_gruppe", "peer_n", "peer_median"),
        ("kommunenart", "land_n", "land_median"),
    ):
        mismatches = con.execute(
            f"""
            with gruppen as (
                select snapshot_date, land, perspektive, {window},
                       count(*) as n, median(quote_online) as median,
                       count(distinct left(ars, 2)) as laender,
                       min({n}) as n_min, max({n}) as n_max,
                       min({median}) as median_min, max({median}) as median_max
                from multi.marts.mart_peer_vergleich
                group by all
            )
            select count(*) from gruppen
            where laender <> 1 or n_min <> n or n_max <> n
               or abs(median_min - median) > 1e-12 or abs(median_max - median) > 1e-12
            """
        ).fetchone()
        assert mismatches == (0,), window
    groups_per_land = dict(
        con.execute(
            "select land, count(distinct peer_gruppe) from multi.marts.mart_peer_vergleich "
            "group by land"
        ).fetchall()
    )
    assert groups_per_land[HESSEN] == groups_per_land[TWIN] == groups_per_land[PERTURBED] > 3


def test_rollout_t0_and_peer_sizes_per_land(con: duckdb.DuckDBPyConnection) -> None:
    wrong_t0 = con.execute(
        """
        select count(*) from (
            select t0_land, min(erstmals_online) over (partition by land, leika_key) as t0
            from multi.marts.mart_rollout_kommune_leistung
        ) where t0_land is distinct from t0
        """
    ).fetchone()
    assert wrong_t0 == (0,)
    wrong_peers = con.execute(
        """
        select count(*) from (
            select peer_n, count(*) over (partition by land, peer_gruppe) as n
            from multi.marts.mart_rollout_kommune
        ) where peer_n <> n
        """
    ).fetchone()
    assert wrong_peers == (0,)


def test_diffusion_and_land_coverage_count_the_lands_kommunen(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # Online at the last Stichtag: the pairs of the roll-out mart against the curve.
    curve = con.execute(
        """
        with paare as (
            select land, leika_key, letzter_stichtag as snapshot_date,
                   count(*) as n_kommunen, count(*) filter (where aktuell_online) as n_online
            from multi.marts.mart_rollout_kommune_leistung group by all
        )
        select count(*), count(*) filter (
            where v.n_kommunen is distinct from p.n_kommunen
               or v.n_online is distinct from p.n_online
        )
        from paare p
        left join multi.marts.mart_diffusion_verlauf v using (land, leika_key, snapshot_date)
        """
    ).fetchone()
    assert curve is not None and curve[0] > 3 * 250 and curve[1] == 0
    # A Land's coverage is the sum of its Kreise.
    coverage = con.execute(
        """
        with kreise as (
            select snapshot_date, land, leika_key, sum(n_gemeinden) as n,
                   sum(n_gemeinden_online) as n_online, sum(bevoelkerung) as bevoelkerung
            from multi.marts.mart_abdeckung_leistung_gebiet
            where gebietsebene = 'Kreis' group by all
        )
        select count(*), count(*) filter (
            where a.gebiet_ars <> a.land || '0000000000' or a.n_gemeinden is distinct from k.n
               or a.n_gemeinden_online is distinct from k.n_online
               or a.bevoelkerung is distinct from k.bevoelkerung
        )
        from multi.marts.mart_abdeckung_leistung_gebiet a
        left join kreise k using (snapshot_date, land, leika_key)
        where a.gebietsebene = 'Land'
        """
    ).fetchone()
    assert coverage is not None and coverage[0] > 3 * 12 * 250 and coverage[1] == 0


def test_the_perturbed_land_differs_from_hessen(con: duckdb.DuckDBPyConnection) -> None:
    """Land 08 is no twin: had its rows entered Hessen's medians, (a) would have failed."""
    columns = marts(con, "multi")["mart_peer_vergleich"]
    perturbed = select_land("mart_peer_vergleich", columns, "multi", PERTURBED)
    only_twin, only_perturbed = difference(
        con, twin_select("mart_peer_vergleich", columns, PERTURBED), perturbed
    )
    assert only_twin == only_perturbed > 1000
    medians = con.execute(
        f"""
        select count(*) from multi.marts.mart_peer_vergleich h
        join multi.marts.mart_peer_vergleich p
          on p.snapshot_date = h.snapshot_date and p.perspektive = h.perspektive
         and p.ars = '{PERTURBED}' || h.ars[3:]
        where h.land = '{HESSEN}' and p.land_median < h.land_median
        """
    ).fetchone()
    assert medians is not None and medians[0] > 1000


# -- (d): the workshop reports stay Hessen's ----------------------------------------------------

GENERATED = re.compile(r"\d\d\.\d\d\.\d{4}, \d\d:\d\d UTC")


def test_reports_from_three_laender_equal_those_from_hessen_alone(
    single: Path, multi: Path, tmp_path: Path
) -> None:
    built = {}
    for name, data in (("single", single), ("multi", multi)):
        published = tmp_path / name / "published"
        published.mkdir(parents=True)
        shutil.copyfile(data / "warehouse" / "ozg.duckdb", published / "ozg.duckdb")
        built[name] = build_reports(tmp_path / name).out_dir
    pages = sorted(p.name for p in built["single"].glob("*.html"))
    assert len(pages) >= 9
    assert pages == sorted(p.name for p in built["multi"].glob("*.html"))
    for page in pages:
        alone, together = (
            GENERATED.sub("…", (built[name] / page).read_text(encoding="utf-8"))
            for name in ("single", "multi")
        )
        assert alone == together, page
    workbooks = [
        load_workbook(built[name] / "ozg-workshop-kennzahlen.xlsx", read_only=True)
        for name in ("single", "multi")
    ]
    try:
        assert workbooks[0].sheetnames == workbooks[1].sheetnames
        for sheet in workbooks[0].sheetnames:
            rows = [list(wb[sheet].iter_rows(values_only=True)) for wb in workbooks]
            assert rows[0] == rows[1], sheet
            header = rows[0][0]
            if "Land" in header and sheet != "Hinweise":
                column = header.index("Land")
                assert {row[column] for row in rows[0][1:]} == {HESSEN}, sheet
    finally:
        for wb in workbooks:
            wb.close()
