"""The roll-out driver analysis (``pipelines/analysis``, docs/metrics.md §6.16) on small
synthetic data whose truth is known: the closed-form scores, the cluster-robust variance,
the pair table, the "zu wenige Beobachtungen" rule, the Kommune effects and the curves.
Fast: no pipeline run (the validation on the sample is tests/integration/test_rollout_drivers.py).
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from pipelines import analysis
from pipelines.analysis import aft, drivers, kaplan_meier, pairs

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = [date(2026, m, 1) for m in range(1, 13)]
DAYS = np.array([d.toordinal() for d in SNAPSHOTS], dtype=float)
PLATTFORM = "civento (ekom21)"


# -- simulated interval-censored data ----------------------------------------------------------
def censor(times: np.ndarray, k0: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adoption times (days after the snapshot before t0) on the monthly grid: (lower, upper,
    months since t0); pending beyond the last snapshot."""
    origin = DAYS[k0 - 1]
    lower = np.empty(len(times))
    upper = np.empty(len(times))
    months = np.empty(len(times), dtype=np.int64)
    for i, (t, k, o) in enumerate(zip(times, k0, origin, strict=True)):
        after = np.flatnonzero(DAYS[k:] - o >= t)
        if len(after) == 0:
            lower[i], upper[i], months[i] = DAYS[-1] - o, math.inf, len(DAYS) - 1 - k
            continue
        j = k + after[0]
        lower[i] = 0.0 if j == k else DAYS[j - 1] - o
        upper[i], months[i] = DAYS[j] - o, j - k
    return lower, upper, months


def simulate(
    *, n_kommunen: int = 150, n_leistungen: int = 40, seed: int = 9, weibull: bool = False
) -> tuple[pl.DataFrame, dict[str, object]]:
    """Pairs in the layout of ``pairs.build_pairs`` with a planted truth."""
    rng = np.random.default_rng(seed)
    kreis = np.arange(n_kommunen) // 10
    population = np.exp(rng.normal(9.0, 1.0, n_kommunen)).round().astype(np.int64)
    stadt = rng.random(n_kommunen) < 0.4
    ikz = rng.random(n_kommunen) < 0.25
    laggard = np.zeros(n_kommunen, dtype=bool)
    laggard[np.array([5, 47, 123]) % n_kommunen] = True
    platform = np.arange(n_leistungen) % 2 == 0
    basket = np.isin(np.arange(n_leistungen), [3, 8])
    land_service = np.arange(n_leistungen) == n_leistungen - 1
    k0 = rng.integers(1, 7, n_leistungen)
    u_kreis = rng.normal(0.0, 0.2, kreis.max() + 1)
    v_leistung = rng.normal(0.0, 0.15, n_leistungen)
    g, s = np.meshgrid(np.arange(n_kommunen), np.arange(n_leistungen), indexing="ij")
    g, s = g.ravel(), s.ravel()
    log_pop = np.log(population)
    mu = (
        np.log(250.0)
        - 0.25 * (log_pop[g] - np.median(log_pop))
        + np.log(0.8) * stadt[g]
        + np.log(0.8) * ikz[g]
        + np.log(3.0) * laggard[g]
        + np.log(0.55) * platform[s]
        + np.log(0.5) * basket[s]
        + u_kreis[kreis[g]]
        + v_leistung[s]
    )
    w = np.log(rng.exponential(size=len(g))) if weibull else rng.normal(size=len(g))
    times = np.exp(mu + 0.8 * w)
    times = np.where(land_service[s], 1.0, times)
    lower, upper, months = censor(times, k0[s])
    event = np.isfinite(upper)
    ars = np.array([f"06{k:03d}{i:07d}" for i, k in zip(range(n_kommunen), kreis, strict=True)])
    frame = pl.DataFrame(
        {
            "land": "06",
            "ars": ars[g],
            "leika_key": [f"999{j:011d}" for j in s],
            "name": [f"Kommune {i}" for i in g],
            "kommunenart": "Gemeinde",
            "gebietstyp": np.where(stadt[g], "kreisangehörige Stadt", "kreisangehörige Gemeinde"),
            "kreis_ars": [f"06{k:03d}0000000" for k in kreis[g]],
            "bevoelkerung": population[g],
            "t0_land": [SNAPSHOTS[k] for k in k0[s]],
            "erstmals_online": [
                SNAPSHOTS[k + m] if e else None
                for k, m, e in zip(k0[s], months, event, strict=True)
            ],
            "ereignis": event,
            "untere_grenze_tage": lower,
            "obere_grenze_tage": upper,
            "beobachtet_bis_tage": DAYS[-1] - DAYS[k0[s] - 1],
            "monate_seit_t0": months,
            "anbieter": np.where(land_service[s], "land", "eigen"),
            "anbieter_beobachtet": event,
            "url": None,
            "plattform": np.where(platform[s], PLATTFORM, pairs.KEINE_PLATTFORM),
            "leistungsebene": pairs.GEMEINDEEBENE,
            "prioritaetenkorb": np.where(basket[s], "HE-2026", pairs.KEIN_KORB),
            "sample": True,
            "ikz_verbund": ikz[g],
            "digitalisierungsberatung": rng.random(n_kommunen)[g] < 0.3,
        }
    ).with_columns(pl.col("url").cast(pl.String), pl.col("erstmals_online").cast(pl.Date))
    truth = {"laggards": set(ars[laggard]), "ars": ars}
    return frame, truth


@pytest.fixture(scope="module")
def simulated() -> tuple[pl.DataFrame, dict[str, object]]:
    return simulate()


@pytest.fixture(scope="module")
def result(simulated: tuple[pl.DataFrame, dict[str, object]]) -> drivers.Results:
    frame, _ = simulated
    return drivers.analyse_land(
        frame,
        plattformen=[PLATTFORM],
        koerbe=["HE-2026"],
        booleans=["ikz_verbund", "digitalisierungsberatung"],
        numerics=[],
    )


def row(result: drivers.Results, faktor: str, auspraegung: str) -> dict[str, object]:
    rows = result.treiber.filter(
        (pl.col("faktor") == faktor) & (pl.col("auspraegung") == auspraegung)
    ).to_dicts()
    assert len(rows) == 1, (faktor, auspraegung)
    return rows[0]


# -- the likelihood pieces ---------------------------------------------------------------------
@pytest.mark.parametrize("model", aft.MODELS)
def test_the_closed_form_scores_are_the_gradient(model: str) -> None:
    rng = np.random.default_rng(3)
    n = 200
    x = np.column_stack([np.ones(n), rng.normal(size=n)])
    lower = rng.uniform(0, 100, n)
    lower[:20] = 0.0
    upper = lower + rng.uniform(10, 60, n)
    upper[-40:] = np.inf
    beta, log_sigma = np.array([4.0, 0.3]), math.log(0.9)

    def loglik(b: np.ndarray, ls: float) -> float:
        return float(aft.interval_terms(model, lower, upper, x @ b, math.exp(ls))[0].sum())

    score = aft.scores(model, x, lower, upper, beta, log_sigma).sum(axis=0)
    h = 1e-6
    numeric = [
        (loglik(beta + h * e, log_sigma) - loglik(beta - h * e, log_sigma)) / (2 * h)
        for e in np.eye(2)
    ] + [(loglik(beta, log_sigma + h) - loglik(beta, log_sigma - h)) / (2 * h)]
    np.testing.assert_allclose(score, numeric, rtol=1e-5, atol=1e-5)
    # The second derivative by μ, per pair.
    eta = x @ beta
    _, d_mu, d2_mu, _ = aft.interval_terms(model, lower, upper, eta, math.exp(log_sigma))
    _, d_mu_h, _, _ = aft.interval_terms(model, lower, upper, eta + h, math.exp(log_sigma))
    np.testing.assert_allclose(d2_mu, (d_mu_h - d_mu) / h, rtol=1e-3, atol=1e-6)


def test_the_fit_recovers_the_truth_and_the_variance_identities_hold() -> None:
    rng = np.random.default_rng(11)
    n = 4000
    x = np.column_stack([rng.normal(size=n), rng.random(n) < 0.5]).astype(float)
    times = np.exp(5.0 - 0.3 * x[:, 0] + math.log(0.6) * x[:, 1] + 0.7 * rng.normal(size=n))
    grid = np.arange(0.0, 391.0, 30.0)
    position = np.searchsorted(grid, times)
    pending = position >= len(grid)
    lower = np.where(pending, grid[-1], grid[np.clip(position - 1, 0, None)])
    upper = np.where(pending, np.inf, grid[np.clip(position, 0, len(grid) - 1)])
    units = np.arange(n)  # one pair per cluster: the sandwich is the heteroskedasticity-robust one
    fitted = aft.fit(aft.LOGNORMAL, x, ("a", "b"), lower, upper, units, units % 97)
    assert abs(fitted.beta[1] + 0.3) < 3 * fitted.se_robust()[1]
    assert abs(fitted.beta[2] - math.log(0.6)) < 3 * fitted.se_robust()[2]
    assert abs(fitted.sigma - 0.7) < 0.05
    design = np.column_stack([np.ones(n), x])
    score = aft.scores(aft.LOGNORMAL, design, lower, upper, fitted.beta, fitted.log_sigma)
    np.testing.assert_allclose(score.sum(axis=0), 0.0, atol=0.5)  # the maximum
    outer = np.linalg.inv(score.T @ score)  # information identity under the true model
    np.testing.assert_allclose(np.diag(outer), np.diag(fitted.vcov_model), rtol=0.2)
    weibull = aft.fit(aft.WEIBULL, x, ("a", "b"), lower, upper, units, units % 97)
    assert fitted.aic < weibull.aic  # log-normal data: the log-normal model fits better


def test_two_way_clustering_adds_the_two_one_way_meats() -> None:
    rng = np.random.default_rng(5)
    score = rng.normal(size=(60, 2))
    a = np.repeat(np.arange(6), 10)
    b = np.tile(np.arange(10), 6)
    bread = np.eye(2)
    vcov, clusters = aft.two_way_vcov(bread, score, a, b)
    meat_a, _ = aft.cluster_meat(score, a)
    meat_b, _ = aft.cluster_meat(score, b)
    meat_ab, _ = aft.cluster_meat(score, np.arange(60))
    expected = meat_a + meat_b - meat_ab
    assert clusters == (6, 10)
    if np.linalg.eigvalsh(expected).min() >= 0:
        np.testing.assert_allclose(vcov, expected)
    assert np.linalg.eigvalsh(vcov).min() >= -1e-12
    group_sums = np.array([score[a == c].sum(axis=0) for c in range(6)])
    np.testing.assert_allclose(meat_a, 6 / 5 * group_sums.T @ group_sums)


# -- the analysis of one Land --------------------------------------------------------------------
def test_planted_time_ratios_are_recovered(result: drivers.Results) -> None:
    platform = row(result, "plattform", PLATTFORM)
    assert platform["geschaetzt"] and platform["ki_unten"] <= 0.55 <= platform["ki_oben"]
    assert abs(platform["zeitverhaeltnis"] / 0.55 - 1) < 0.25
    population = row(result, "bevoelkerung", "ln(Einwohner) +1")
    assert abs(population["koeffizient"] + 0.25) < 3 * population["standardfehler"]
    assert math.isclose(population["zeitverhaeltnis"], math.exp(population["koeffizient"]))
    ikz = row(result, "ikz_verbund", "ja")
    assert ikz["ki_unten"] <= 0.8 <= ikz["ki_oben"]
    null = row(result, "digitalisierungsberatung", "ja")
    assert null["ki_unten"] <= 1.0 <= null["ki_oben"]
    stadt = row(result, "gebietstyp", "kreisangehörige Stadt")
    assert stadt["referenz"] == "kreisangehörige Gemeinde"  # the level with most pairs
    assert stadt["ki_unten"] <= 0.8 <= stadt["ki_oben"]
    models = result.modelle.sort("modell")
    assert models["bevorzugt"].to_list() == [True, False]  # lognormal_aft, weibull_aft
    assert set(result.treiber["modell"]) == {aft.LOGNORMAL}


def test_too_few_leistungen_give_no_estimate(result: drivers.Results) -> None:
    basket = row(result, "prioritaetenkorb", "HE-2026")
    assert basket["n_leistungen"] == 2 and basket["n_ereignisse"] > drivers.MIN_EREIGNISSE
    assert basket["hinweis"] == drivers.ZU_WENIGE == "zu wenige Beobachtungen"
    assert not basket["geschaetzt"] and basket["zeitverhaeltnis"] is None
    land = row(result, "anbieter", "Land")
    assert land["hinweis"] == drivers.SOFORT and land["n_paare"] == 150
    reference = row(result, "anbieter", "eigen")
    assert reference["ist_referenz"] and reference["zeitverhaeltnis"] == 1.0
    assert reference["hinweis"] == drivers.REFERENZ
    # Levels without pairs are still listed, for the report to say so.
    for auspraegung in ("Kreis", "Bund/EfA"):
        empty = row(result, "anbieter", auspraegung)
        assert empty["n_paare"] == 0 and empty["hinweis"] == drivers.ZU_WENIGE
    models = result.modelle.row(0, named=True)
    assert models["n_paare"] - models["n_paare_modell"] == 150  # the Land's Leistung left out


def test_kommune_effects_find_the_laggards(
    result: drivers.Results, simulated: tuple[pl.DataFrame, dict[str, object]]
) -> None:
    _, truth = simulated
    effects = result.kommune_effekt
    assert effects.height == 150 and effects["rang"].sort().to_list() == list(range(1, 151))
    slowest = set(effects.sort("rang", descending=True).head(10)["ars"])
    assert truth["laggards"] <= slowest
    laggards = effects.filter(pl.col("ars").is_in(list(truth["laggards"])))
    assert (laggards["einordnung"] == "langsamer als erwartet").all()
    assert (laggards["zeitverhaeltnis"] > 1.8).all()
    assert (effects["ki_unten"] <= effects["zeitverhaeltnis"]).all()
    assert (effects["zeitverhaeltnis"] <= effects["ki_oben"]).all()
    decomposition = result.modelle.filter("bevorzugt").row(0, named=True)
    assert 0.6 < decomposition["sigma_innerhalb"] < 1.0  # planted 0.8


def test_kaplan_meier_curves_per_level(result: drivers.Results) -> None:
    km = result.km
    overall = km.filter(pl.col("faktor") == "gesamt").sort("monate_seit_t0")
    survival = overall["anteil_ausstehend"].to_numpy()
    assert (np.diff(survival) <= 1e-12).all() and 0 < survival[-1] < 1
    assert (np.diff(overall["n_risiko"].to_numpy()) <= 0).all()
    assert overall["n_paare"][0] == 150 * 40
    assert overall["n_ereignisse"].sum() + overall["n_zensiert"].sum() == 150 * 40
    land = km.filter((pl.col("faktor") == "anbieter") & (pl.col("auspraegung") == "Land"))
    assert land["anteil_ausstehend"][0] == 0.0  # every pair online at t0
    levels = set(km.filter(pl.col("faktor") == "plattform")["auspraegung"])
    assert levels == {pairs.KEINE_PLATTFORM, PLATTFORM}


def test_kaplan_meier_counts_a_small_curve_by_hand() -> None:
    # Months since t0: adopted in month 0, 0, 2; pending after month 1 and month 3.
    curve = kaplan_meier.curve(np.array([0, 0, 2, 1, 3]), np.array([1, 1, 1, 0, 0], bool))
    assert curve["n_risiko"].to_list() == [5, 3, 2, 1]
    expected = [3 / 5, 3 / 5, 3 / 5 * 1 / 2, 3 / 5 * 1 / 2]
    np.testing.assert_allclose(curve["anteil_ausstehend"].to_numpy(), expected)


def test_weibull_data_prefer_the_weibull_model() -> None:
    frame, _ = simulate(n_kommunen=80, n_leistungen=30, seed=3, weibull=True)
    result = drivers.analyse_land(
        frame, plattformen=[PLATTFORM], koerbe=["HE-2026"], booleans=[], numerics=[]
    )
    preferred = result.modelle.filter("bevorzugt")["modell"].to_list()
    assert preferred == [aft.WEIBULL]
    assert set(result.treiber["modell"]) == {aft.WEIBULL}
    assert set(result.treiber["vergleichsmodell"]) == {aft.LOGNORMAL}


# -- the pair table --------------------------------------------------------------------------
def small_inputs() -> pairs.Inputs:
    """Two Leistungen in Land 06 (t0 at the 2nd snapshot; the second left-censored), two
    Gemeinden of one Kreis and their Landkreis; snapshots 2026-01 … 2026-04."""
    stichtage = pl.DataFrame(
        {"land": "06", "snapshot_date": [date(2026, m, 1) for m in range(1, 5)]}
    )
    g1, g2, lk = "064360001001", "064360002002", "064360000000"
    rollout = pl.DataFrame(
        {
            "land": "06",
            "ars": [g1, g2, lk],
            "leika_key": "99900000000001",
            "kommunenart": ["Gemeinde", "Gemeinde", "Landkreis"],
            "erster_stichtag": date(2026, 1, 1),
            "letzter_stichtag": date(2026, 4, 1),
            "t0_land": date(2026, 2, 1),
            "erstmals_online": [date(2026, 2, 1), date(2026, 4, 1), None],
            "sample": True,
        }
    )
    paare = pl.DataFrame(
        {
            "ars": [g1, g2, lk],
            "leika_key": "99900000000001",
            "traeger": [True, True, False],  # the Landkreis only serves: no Träger pair
            "anbieter": ["eigen", "eigen", None],
            "url": ["https://a.example/civento/x", "https://b.example/portal/x", None],
        }
    )
    kommunen = pl.DataFrame(
        {
            "land": "06",
            "ars": [g1, g2, lk],
            "name": ["A", "B", "LK"],
            "kommunenart": ["Gemeinde", "Gemeinde", "Landkreis"],
            "gebietstyp": ["kreisangehörige Gemeinde", "kreisangehörige Stadt", "Landkreis"],
            "kreis_ars": lk,
            "bevoelkerung": [5000, 20000, 100000],
            "sample": True,
        }
    )
    return pairs.Inputs(
        rollout=rollout,
        paare=paare,
        kommunen=kommunen,
        stichtage=stichtage,
        zustaendigkeit=pl.DataFrame(
            {"land": "06", "leika_key": ["99900000000001"], "landkreis": [False]}
        ),
        koerbe=pl.DataFrame({"korb": ["HE-2026"], "leika_key": ["99900000000001"]}),
        merkmale=pl.DataFrame(
            {
                "ars": [g1, g1, g2],
                "ikz_verbund": [True, False, None],
                "ikz_verbund_name": ["IKZ A", "", ""],
                "einwohner_je_stelle": [10.0, 99.0, 12.0],
                "beispiel": [True, False, True],
            }
        ),
        plattformen=pl.DataFrame({"muster": ["CIVENTO"], "plattform": [PLATTFORM]}),
    )


def test_the_pair_table_holds_the_intervals_and_covariates() -> None:
    table = pairs.build_pairs(small_inputs())
    assert table["ars"].to_list() == ["064360001001", "064360002002"]  # Träger pairs only
    first, second = table.to_dicts()
    # Origin: 2026-01-01 (the snapshot before t0 = 2026-02-01).
    assert (first["untere_grenze_tage"], first["obere_grenze_tage"]) == (0.0, 31.0)
    assert first["monate_seit_t0"] == 0 and first["ereignis"]
    assert (second["untere_grenze_tage"], second["obere_grenze_tage"]) == (59.0, 90.0)
    assert second["monate_seit_t0"] == 2 and second["beobachtet_bis_tage"] == 90.0
    # One of two first-online URLs matches the pattern (case-insensitive): half is enough.
    assert {first["plattform"], second["plattform"]} == {PLATTFORM}
    assert first["prioritaetenkorb"] == "HE-2026"
    assert first["leistungsebene"] == pairs.GEMEINDEEBENE
    # The sample's rows (beispiel = true) apply to sample pairs; missing booleans are false.
    assert (first["ikz_verbund"], second["ikz_verbund"]) == (True, False)
    assert (first["einwohner_je_stelle"], second["einwohner_je_stelle"]) == (10.0, 12.0)
    assert "ikz_verbund_name" not in table.columns  # text: a label, no covariate
    assert pairs.merkmal_columns(small_inputs().merkmale) == (
        ["ikz_verbund"],
        ["einwohner_je_stelle"],
    )


def test_a_pending_pair_takes_the_providers_of_its_leistung() -> None:
    inputs = small_inputs()
    rollout = inputs.rollout.with_columns(
        erstmals_online=pl.Series([date(2026, 2, 1), None, None], dtype=pl.Date)
    )
    paare = inputs.paare.with_columns(
        anbieter=pl.Series(["kreis", None, None]),
        url=pl.Series(["https://lk.example/x", None, None]),
    )
    table = pairs.build_pairs(
        pairs.Inputs(**{**inputs.__dict__, "rollout": rollout, "paare": paare})
    )
    pending = table.filter(~pl.col("ereignis")).row(0, named=True)
    assert pending["anbieter"] == "kreis" and not pending["anbieter_beobachtet"]
    assert math.isinf(pending["obere_grenze_tage"]) and pending["untere_grenze_tage"] == 90.0
    assert set(table["plattform"]) == {pairs.KEINE_PLATTFORM}


def test_live_pairs_use_the_rows_without_beispiel() -> None:
    inputs = small_inputs()
    live = pairs.Inputs(
        **{
            **inputs.__dict__,
            "rollout": inputs.rollout.with_columns(sample=pl.lit(False)),
            "kommunen": inputs.kommunen.with_columns(sample=pl.lit(False)),
        }
    )
    table = pairs.build_pairs(live)
    assert table["ikz_verbund"].to_list() == [False, False]
    assert table["einwohner_je_stelle"].to_list() == [99.0, None]


# -- outputs -------------------------------------------------------------------------------------
def test_the_outputs_match_the_dbt_sources() -> None:
    sources = yaml.safe_load((ROOT / "dbt_project/models/staging/_sources.yml").read_text())
    (source,) = [s for s in sources["sources"] if s["name"] == "analysis"]
    declared = {
        t["name"]: [(c["name"], c["data_type"]) for c in t["columns"]] for t in source["tables"]
    }
    empty = drivers.empty_results()
    types = {pl.String: "VARCHAR", pl.Boolean: "BOOLEAN", pl.Float64: "DOUBLE", pl.Int64: "BIGINT"}
    assert set(declared) == set(analysis.OUTPUTS)
    for name, attribute in analysis.OUTPUTS.items():
        frame = getattr(empty, attribute)
        assert declared[name] == [(c, types[t]) for c, t in frame.schema.items()], name


def test_results_are_written_atomically_with_their_schema(
    result: drivers.Results, tmp_path: Path
) -> None:
    written = analysis.write_results(result, tmp_path / "analysis")
    assert sorted(p.name for p in (tmp_path / "analysis").iterdir()) == sorted(
        f"{name}.parquet" for name in analysis.OUTPUTS
    )
    for name, attribute in analysis.OUTPUTS.items():
        assert pl.read_parquet(written[name]).equals(getattr(result, attribute))


def test_no_pairs_give_empty_outputs() -> None:
    inputs = small_inputs()
    none = pairs.Inputs(**{**inputs.__dict__, "rollout": inputs.rollout.clear()})
    results, table = analysis.analyse(none)
    assert table.is_empty()
    for attribute in analysis.OUTPUTS.values():
        frame = getattr(results, attribute)
        assert (
            frame.is_empty() and frame.schema == getattr(drivers.empty_results(), attribute).schema
        )


def test_a_land_with_too_few_adoptions_is_skipped_with_its_reason() -> None:
    results, table = analysis.analyse(small_inputs())
    assert table.height == 2 and results.treiber.is_empty()
    assert results.uebersprungen == {
        "06": "zu wenige Beobachtungen: 2 Einführungen in 2 Paaren (mindestens 30)"
    }
