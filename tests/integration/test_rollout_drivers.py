"""Validation of the roll-out drivers on the sample (docs/metrics.md §6.16): the time ratios
in ``mart_rollout_treiber`` recover the generator's planted effects, and the planted laggards
are among the slowest own effects in ``mart_rollout_kommune_effekt``.

What the generator plants (``sources/sample/generator.py``; the median lag is a product of
factors, so each is a time ratio of an AFT model):

* ``PLATFORM_FACTOR`` 0.55 on the Leistungen of the Land-wide platform (civento);
* ``PRIORITY_FACTOR`` 0.5 on the five basket Leistungen;
* ``f_pop = (pop / POP_REFERENCE) ** −POP_ELASTICITY``: the coefficient of ln(population) in
  the AFT model is −POP_ELASTICITY = −0.25 (the elasticity of the time to adoption with
  respect to population; the time ratio per unit of ln(population) is exp(−0.25) ≈ 0.78,
  per doubling 2^−0.25 ≈ 0.84). The test compares the coefficient ``koeffizient``;
* ``TYPE_FACTOR`` per Gebietstyp: the mart's ratio of a level is planted(level) /
  planted(reference);
* ``BASE_MEDIAN_LAG_DAYS`` kreis 260 against gemeinde 420: the Leistungsebene (a control);
* ``IKZ_FACTOR`` 0.8 for members of an IKZ-Verbund; the Digitalisierungsberatung flag has no
  effect (time ratio 1);
* ``LAGGARD_FACTOR`` 3 for 13 Gemeinden and 1 Landkreis (``SampleUniverse.kommunen``).

Assertions (the issue's contract): platform, IKZ and population — the 95 % interval covers the
planted value and the estimate lies within ±20 % of it; the null effect's interval covers 1;
the Gebietstyp factors and the Leistungsebene within the tolerances in ``TOLERANCE`` below
(their levels rest on 5 kreisfreie Städte, 7 Sonderstatusstädte, 21 Landkreise or on a
biased time origin, see docs/metrics.md §6.16 "Caveats"); the priority basket — only three of
its five Leistungen have their Land-wide first date inside the window (Online-Ummeldung was
online before it, the BImSchG Anlagengenehmigung is a Land Leistung without Kommune pairs),
too few Leistungen for an estimate — says "zu wenige Beobachtungen" in the mart; at least 10
of the 14 laggards are among the 20 slowest own effects. Prints planted against estimated with
the events behind each (``pytest -s``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from sources.sample import generator as gen

pytestmark = pytest.mark.slow

# Relative tolerance |estimate / planted − 1| for the planted effects the issue leaves to the
# test, with the reason.
TOLERANCE = {
    # 179 Städte against 230 Gemeinden: plenty of Kommunen.
    ("gebietstyp", "kreisangehörige Stadt"): 0.15,
    # 5, 7 and 21 Kommunen (each kreisfreie Stadt its own Kreis with its own Kreis effect).
    ("gebietstyp", "kreisfreie Stadt"): 0.35,
    ("gebietstyp", "Sonderstatusstadt"): 0.35,
    ("gebietstyp", "Landkreis"): 0.35,
    # The origin is the Land's first adopter: later for Leistungen with few competent bodies.
    ("leistungsebene", "Kreisebene"): 0.35,
    # Used only if the window ever holds enough basket Leistungen for an estimate.
    ("prioritaetenkorb", "HE-2026"): 0.35,
}
CONTRACT = 0.20  # platform, IKZ, population: within ±20 % and covered by the interval
TYPE_OF = {
    "kreisangehörige Gemeinde": "gemeinde",
    "kreisangehörige Stadt": "stadt",
    "Sonderstatusstadt": "sonderstatusstadt",
    "kreisfreie Stadt": "kreisfreie_stadt",
    "Landkreis": "landkreis",
}
PLATFORM = "civento (ekom21)"


@pytest.fixture(scope="module")
def warehouse(full_sample_run: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(full_sample_run / "warehouse" / "ozg.duckdb"), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def treiber(warehouse: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return warehouse.sql("select * from marts.mart_rollout_treiber where land = '06'").pl()


def level(treiber: pl.DataFrame, faktor: str, auspraegung: str) -> dict[str, object]:
    rows = treiber.filter(
        (pl.col("faktor") == faktor) & (pl.col("auspraegung") == auspraegung)
    ).to_dicts()
    assert len(rows) == 1, (faktor, auspraegung)
    return rows[0]


def planted(treiber: pl.DataFrame) -> list[tuple[str, str, float, str]]:
    """(faktor, auspraegung, planted time ratio — for bevoelkerung the coefficient —, rule)."""
    reference = level(treiber, "gebietstyp", "kreisangehörige Stadt")["referenz"]
    base = gen.TYPE_FACTOR[TYPE_OF[str(reference)]]
    rows = [
        ("plattform", PLATFORM, gen.PLATFORM_FACTOR, "contract"),
        ("bevoelkerung", "ln(Einwohner) +1", -gen.POP_ELASTICITY, "contract"),
        ("ikz_verbund", "ja", gen.IKZ_FACTOR, "contract"),
        ("digitalisierungsberatung", "ja", 1.0, "null"),
        ("prioritaetenkorb", "HE-2026", gen.PRIORITY_FACTOR, "tolerance"),
        (
            "leistungsebene",
            "Kreisebene",
            gen.BASE_MEDIAN_LAG_DAYS["kreis"] / gen.BASE_MEDIAN_LAG_DAYS["gemeinde"],
            "tolerance",
        ),
    ]
    for label, kind in TYPE_OF.items():
        if label != reference:
            rows.append(("gebietstyp", label, gen.TYPE_FACTOR[kind] / base, "tolerance"))
    return rows


def test_planted_effects_are_recovered(treiber: pl.DataFrame) -> None:
    lines = [
        f"{'Faktor':26s} {'Ausprägung':26s} {'gepflanzt':>9s} {'geschätzt':>9s} "
        f"{'95 %-KI':>17s} {'Ereign.':>7s} {'Komm.':>5s} {'Leist.':>6s}  Prüfung"
    ]
    failures = []
    for faktor, auspraegung, truth, rule in planted(treiber):
        row = level(treiber, faktor, auspraegung)
        coefficient = faktor == "bevoelkerung"
        if row["geschaetzt"]:
            estimate = float(row["koeffizient"] if coefficient else row["zeitverhaeltnis"])
            low, high = float(row["ki_unten"]), float(row["ki_oben"])
            if coefficient:
                low, high = math.log(low), math.log(high)
            covered = low <= truth <= high
            error = estimate / truth - 1
            if rule == "contract":
                ok = covered and abs(error) <= CONTRACT
                check = f"KI deckt: {covered}, Abw. {error:+.0%} (≤ ±{CONTRACT:.0%})"
            elif rule == "null":
                ok = covered
                check = f"KI deckt 1: {covered}"
            else:
                tolerance = TOLERANCE[(faktor, auspraegung)]
                ok = abs(error) <= tolerance
                check = f"Abw. {error:+.0%} (≤ ±{tolerance:.0%}), KI deckt: {covered}"
            shown = f"{estimate:9.3f} [{low:7.3f},{high:7.3f}]"
        else:
            ok = rule == "tolerance" and row["hinweis"] == "zu wenige Beobachtungen"
            check = f"Hinweis: {row['hinweis']}"
            shown = f"{'–':>9s} {'':17s}"
        lines.append(
            f"{faktor:26s} {auspraegung:26s} {truth:9.3f} {shown} {row['n_ereignisse']:7d} "
            f"{row['n_kommunen']:5d} {row['n_leistungen']:6d}  {'ok' if ok else 'FEHLER'}: {check}"
        )
        if not ok:
            failures.append((faktor, auspraegung, check))
    print("\nRoll-out-Treiber auf den Beispieldaten (Modell: " + str(treiber["modell"][0]) + ")")
    print("\n".join(lines))
    assert failures == []


def test_the_priority_basket_has_too_few_observations(
    treiber: pl.DataFrame, warehouse: duckdb.DuckDBPyConnection
) -> None:
    """The five basket Leistungen: which have their t0 inside the window, and the mart's
    answer for the too few among them."""
    basket = warehouse.sql(
        """
        select p.bezeichnung, any_value(r.t0_land) as t0_land,
               bool_or(not r.t0_links_zensiert) as t0_im_fenster, count(r.ars) as paare
        from seeds.priority_baskets p
        left join marts.mart_rollout_kommune_leistung r using (leika_key)
        group by all order by all
        """
    ).pl()
    print("\nPrioritätenkorb HE-2026:\n" + str(basket))
    inside = int(basket["t0_im_fenster"].fill_null(False).sum())
    row = level(treiber, "prioritaetenkorb", "HE-2026")
    assert row["n_leistungen"] <= inside < 5
    assert row["hinweis"] == "zu wenige Beobachtungen"
    assert row["zeitverhaeltnis"] is None and not row["geschaetzt"]
    print(
        f"{inside} von 5 Korb-Leistungen mit t0 im Fenster, {row['n_leistungen']} mit "
        f"Träger-Paaren: {row['n_paare']} Paare, {row['n_ereignisse']} Ereignisse → "
        f"{row['hinweis']} (mindestens 5 Leistungen und 30 Ereignisse nötig)"
    )


def test_the_laggards_are_among_the_slowest_own_effects(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    effects = warehouse.sql(
        "select * from marts.mart_rollout_kommune_effekt where land = '06' order by rang desc"
    ).pl()
    laggards = gen.build_universe().kommunen().filter("laggard").select("ars", "name", "kind")
    assert laggards.height == gen.LAGGARD_GEMEINDEN + gen.LAGGARD_LANDKREISE == 14
    slowest = effects.head(20)
    found = laggards.join(effects, on="ars", how="left").sort("rang", descending=True)
    print("\nNachzügler (gepflanzt: Faktor 3) und ihr eigener Effekt:")
    with pl.Config(tbl_rows=20, tbl_cols=-1, tbl_width_chars=220, float_precision=3):
        print(
            found.select(
                "name",
                "kind",
                "zeitverhaeltnis",
                "ki_unten",
                "ki_oben",
                "rang",
                "einordnung",
                "zeitverhaeltnis_kreis",
                "n_paare",
                "n_ereignisse",
                "n_ereignisse_erwartet",
            )
        )
    hits = int(slowest["ars"].is_in(laggards["ars"].to_list()).sum())
    print(f"{hits} der 14 Nachzügler unter den 20 langsamsten eigenen Effekten")
    assert hits >= 10


def test_the_log_normal_model_fits_the_log_normal_sample_better(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    models = warehouse.sql("select * from marts.mart_rollout_modellvergleich").pl()
    with pl.Config(tbl_cols=-1, tbl_width_chars=220):
        print(
            "\n"
            + str(
                models.select(
                    "modell",
                    "bevorzugt",
                    "aic",
                    "delta_aic",
                    "sigma",
                    "n_paare",
                    "n_paare_modell",
                    "n_ereignisse_modell",
                )
            )
        )
    assert models.filter("bevorzugt")["modell"].to_list() == ["lognormal_aft"]
    assert models.filter(~pl.col("bevorzugt"))["delta_aic"][0] > 10
