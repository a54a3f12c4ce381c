"""Roll-out drivers per Land: the design, the two AFT fits, the time ratios with their
"zu wenige Beobachtungen" rule, the Kommune effects and the Kaplan–Meier curves
(docs/metrics.md §6.16). Input: the pair table of ``pipelines.analysis.pairs``; output:
four polars frames with the columns of the dbt marts that publish them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy import stats

from pipelines.analysis import aft, kaplan_meier, pairs

# -- the rule for publishing an estimate ----------------------------------------------------
# A level's time ratio is published only if the level has at least MIN_EREIGNISSE adoptions
# and at least MIN_EINHEITEN distinct units of the factor's own dimension (Kommunen for a
# Kommune attribute, Leistungen for a Leistung attribute, both for the provider of a pair);
# the same holds for the reference level. Below that the estimate rests on a handful of
# Kommunen or Leistungen whose own random effects it cannot tell from the factor, and the
# cluster-robust interval is unreliable.
MIN_EREIGNISSE = 30
MIN_EINHEITEN = 5
# A Land is analysed only with adoptions in at least this many distinct months since t0.
MIN_MONATE = 3
ZU_WENIGE = "zu wenige Beobachtungen"
SOFORT = "nicht schätzbar: alle Paare schon am Stichtag t0 online"
KOLLINEAR = "nicht schätzbar: mit anderen Faktoren verwechselt"
REFERENZ = "Referenz"
# The Kommune's own effect: posterior mode under this fixed, weak prior on its log time
# ratio (95 % of the prior mass within a factor of e^±2 ≈ 7.4).
KOMMUNE_PRIOR_SD = 1.0
KONFIDENZ = 0.95
ANBIETER_LABEL = {"eigen": "eigen", "kreis": "Kreis", "land": "Land", "bund": "Bund/EfA"}

TREIBER_SCHEMA = {
    "land": pl.String,
    "faktor": pl.String,
    "faktor_bezeichnung": pl.String,
    "faktor_ebene": pl.String,
    "auspraegung": pl.String,
    "referenz": pl.String,
    "ist_referenz": pl.Boolean,
    "geschaetzt": pl.Boolean,
    "zeitverhaeltnis": pl.Float64,
    "ki_unten": pl.Float64,
    "ki_oben": pl.Float64,
    "koeffizient": pl.Float64,
    "standardfehler": pl.Float64,
    "p_wert": pl.Float64,
    "zeitverhaeltnis_vergleichsmodell": pl.Float64,
    "n_paare": pl.Int64,
    "n_ereignisse": pl.Int64,
    "n_kommunen": pl.Int64,
    "n_leistungen": pl.Int64,
    "hinweis": pl.String,
    "modell": pl.String,
    "vergleichsmodell": pl.String,
    "sample": pl.Boolean,
}
EFFEKT_SCHEMA = {
    "land": pl.String,
    "ars": pl.String,
    "name": pl.String,
    "kommunenart": pl.String,
    "gebietstyp": pl.String,
    "kreis_ars": pl.String,
    "zeitverhaeltnis": pl.Float64,
    "ki_unten": pl.Float64,
    "ki_oben": pl.Float64,
    "rang": pl.Int64,
    "n_kommunen_land": pl.Int64,
    "einordnung": pl.String,
    "zeitverhaeltnis_kreis": pl.Float64,
    "zeitverhaeltnis_gesamt": pl.Float64,
    "n_paare": pl.Int64,
    "n_ereignisse": pl.Int64,
    "n_ereignisse_erwartet": pl.Float64,
    "modell": pl.String,
    "sample": pl.Boolean,
}
MODELL_SCHEMA = {
    "land": pl.String,
    "modell": pl.String,
    "bevorzugt": pl.Boolean,
    "log_likelihood": pl.Float64,
    "n_parameter": pl.Int64,
    "aic": pl.Float64,
    "delta_aic": pl.Float64,
    "sigma": pl.Float64,
    "n_paare": pl.Int64,
    "n_paare_modell": pl.Int64,
    "n_ereignisse_modell": pl.Int64,
    "n_kommunen": pl.Int64,
    "n_leistungen": pl.Int64,
    "n_cluster_kreis": pl.Int64,
    "n_cluster_leistung": pl.Int64,
    "sigma_innerhalb": pl.Float64,
    "tau_leistung": pl.Float64,
    "tau_kreis": pl.Float64,
    "tau_kommune": pl.Float64,
    "sample": pl.Boolean,
}
KM_SCHEMA = {**kaplan_meier.KM_SCHEMA, "sample": pl.Boolean}


@dataclass(frozen=True)
class Factor:
    """A covariate: ``levels`` are reported in this order (categorical: the reference
    first); a numeric factor has one level, its per-unit label."""

    faktor: str
    bezeichnung: str
    ebene: str  # Kommune, Leistung or Paar: the dimension that decides MIN_EINHEITEN
    column: str
    numeric: bool
    levels: tuple[str, ...]
    labels: dict[str, str] = field(default_factory=dict)  # value in the pairs → auspraegung

    def label(self, value: str) -> str:
        return self.labels.get(value, value)


@dataclass
class Results:
    treiber: pl.DataFrame
    kommune_effekt: pl.DataFrame
    km: pl.DataFrame
    modelle: pl.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    # Länder without results and why (too few adoptions in the window, or no fit converged):
    # they have no rows in the marts; the asset reports them.
    uebersprungen: dict[str, str] = field(default_factory=dict)


def empty_results() -> Results:
    return Results(
        treiber=pl.DataFrame(schema=TREIBER_SCHEMA),
        kommune_effekt=pl.DataFrame(schema=EFFEKT_SCHEMA),
        km=pl.DataFrame(schema=KM_SCHEMA),
        modelle=pl.DataFrame(schema=MODELL_SCHEMA),
    )


def factors(
    land_pairs: pl.DataFrame,
    *,
    plattformen: list[str],
    koerbe: list[str],
    booleans: list[str],
    numerics: list[str],
) -> list[Factor]:
    """The covariates for one Land, in report order."""
    typen = (
        land_pairs.group_by("gebietstyp")
        .agg(pl.len().alias("n"))
        .sort(["n", "gebietstyp"], descending=[True, False])["gebietstyp"]
        .to_list()
    )
    found = [
        Factor(
            "bevoelkerung",
            "Einwohnerzahl (logarithmiert)",
            "Kommune",
            "bevoelkerung",
            True,
            ("ln(Einwohner) +1",),
        ),
        Factor("gebietstyp", "Gebietstyp", "Kommune", "gebietstyp", False, tuple(typen)),
        Factor(
            "leistungsebene",
            "Ebene der Leistung",
            "Leistung",
            "leistungsebene",
            False,
            (pairs.GEMEINDEEBENE, pairs.KREISEBENE),
        ),
        Factor(
            "anbieter",
            "Anbieter des Eintrags",
            "Paar",
            "anbieter",
            False,
            pairs.ANBIETER,
            ANBIETER_LABEL,
        ),
        Factor(
            "plattform",
            "Landesweite Plattform",
            "Leistung",
            "plattform",
            False,
            (pairs.KEINE_PLATTFORM, *plattformen),
        ),
        Factor(
            "prioritaetenkorb",
            "Prioritätenkorb",
            "Leistung",
            "prioritaetenkorb",
            False,
            (pairs.KEIN_KORB, *koerbe),
        ),
    ]
    found += [Factor(name, name, "Kommune", name, False, ("nein", "ja")) for name in booleans]
    found += [Factor(name, name, "Kommune", name, True, ("je +1",)) for name in numerics]
    return found


def _values(frame: pl.DataFrame, factor: Factor) -> pl.Series:
    """The pairs' values of a categorical factor as strings (booleans: ja / nein)."""
    column = frame[factor.column]
    if column.dtype == pl.Boolean:
        return column.replace_strict({True: "ja", False: "nein"}, return_dtype=pl.String)
    return column.cast(pl.String)


@dataclass
class _Level:
    factor: Factor
    value: str
    n_paare: int
    n_ereignisse: int
    n_kommunen: int
    n_leistungen: int
    status: str | None = None  # None: estimated; else the hinweis
    column: int | None = None  # position in the design (without intercept)
    exclude: bool = False  # its pairs leave the fit (degenerate outcome)

    def enough(self) -> bool:
        units = {
            "Kommune": self.n_kommunen,
            "Leistung": self.n_leistungen,
            "Paar": min(self.n_kommunen, self.n_leistungen),
        }[self.factor.ebene]
        return self.n_ereignisse >= MIN_EREIGNISSE and units >= MIN_EINHEITEN


def _level_counts(frame: pl.DataFrame, mask: np.ndarray, factor: Factor, value: str) -> _Level:
    part = frame.filter(pl.Series(mask))
    return _Level(
        factor=factor,
        value=value,
        n_paare=part.height,
        n_ereignisse=int(part["ereignis"].sum()),
        n_kommunen=part["ars"].n_unique(),
        n_leistungen=part["leika_key"].n_unique(),
    )


def analyse_land(
    land_pairs: pl.DataFrame,
    *,
    plattformen: list[str],
    koerbe: list[str],
    booleans: list[str],
    numerics: list[str],
) -> Results:
    """Fit both models for one Land's pairs and return its four result frames."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    land = land_pairs["land"][0]
    sample = bool(land_pairs["sample"].any())
    frame = land_pairs.filter(
        pl.all_horizontal([pl.col(n).is_not_null() for n in ["bevoelkerung", *numerics]])
    )
    frame = frame.filter(pl.col("bevoelkerung") > 0)
    specs = factors(
        frame, plattformen=plattformen, koerbe=koerbe, booleans=booleans, numerics=numerics
    )
    # Levels, their counts and whether their pairs can be fitted at all.
    levels: list[_Level] = []
    keep = np.ones(frame.height, dtype=bool)
    first_month = (frame["ereignis"] & (frame["monate_seit_t0"] == 0)).to_numpy()
    for spec in specs:
        if spec.numeric:
            level = _level_counts(frame, np.ones(frame.height, dtype=bool), spec, spec.levels[0])
            values = frame[spec.column].cast(pl.Float64)
            if values.n_unique() < 2 or not level.enough():
                level.status = ZU_WENIGE
            levels.append(level)
            continue
        values = _values(frame, spec).to_numpy()
        for value in spec.levels:
            mask = values == value
            level = _level_counts(frame, mask, spec, value)
            if value == spec.levels[0]:
                level.status = REFERENZ
            elif level.n_paare == 0 or level.n_ereignisse == 0:
                level.status, level.exclude = ZU_WENIGE, level.n_paare > 0
            elif first_month[mask].all():
                level.status, level.exclude = SOFORT, True
            elif not level.enough():
                level.status = ZU_WENIGE
            if level.exclude:
                keep &= ~mask
            levels.append(level)
        reference = next(lv for lv in levels if lv.factor is spec and lv.status == REFERENZ)
        if not reference.enough():
            for lv in levels:
                if lv.factor is spec and lv.status is None:
                    lv.status = ZU_WENIGE
    fit_frame = frame.filter(pl.Series(keep))
    # The design: numeric columns centred, one indicator per non-reference level present.
    columns: list[np.ndarray] = []
    names: list[str] = []
    for level in levels:
        spec = level.factor
        if level.status == REFERENZ or level.exclude:
            continue
        if spec.numeric:
            if level.status == ZU_WENIGE and fit_frame[spec.column].n_unique() < 2:
                continue
            raw = fit_frame[spec.column].cast(pl.Float64).to_numpy()
            value = np.log(raw) if spec.faktor == "bevoelkerung" else raw
            column = value - np.median(value)
        else:
            column = (_values(fit_frame, spec).to_numpy() == level.value).astype(float)
            if column.sum() == 0:
                continue
        level.column = len(columns)
        columns.append(column)
        names.append(f"{spec.faktor}={level.value}")
    x = np.column_stack(columns) if columns else np.zeros((fit_frame.height, 0))
    x, dropped = _independent(x)
    for level in levels:
        if level.column is not None and level.column in dropped:
            level.status, level.column = KOLLINEAR, None
    positions = {old: new for new, old in enumerate(sorted(set(range(len(names))) - dropped))}
    for level in levels:
        if level.column is not None:
            level.column = positions[level.column]
    names = [n for j, n in enumerate(names) if j not in dropped]
    for level in levels:  # present, but every pair of it left the fit with another level
        if level.status is None and level.column is None:
            level.status = ZU_WENIGE
    lower = fit_frame["untere_grenze_tage"].to_numpy()
    upper = fit_frame["obere_grenze_tage"].to_numpy()
    kreis = fit_frame["kreis_ars"].to_numpy()
    leistung = fit_frame["leika_key"].to_numpy()
    fits: dict[str, aft.AftFit] = {}
    for model in aft.MODELS:
        t = time.perf_counter()
        fits[model] = aft.fit(model, x, tuple(names), lower, upper, kreis, leistung)
        timings[f"fit_{model}"] = time.perf_counter() - t
    best = min(fits.values(), key=lambda f: f.aic)
    other = next(f for f in fits.values() if f is not best)
    treiber = _treiber_rows(land, levels, best, other, sample)
    t = time.perf_counter()
    effekt, decomposition = _kommune_effects(land, fit_frame, x, best, sample)
    timings["kommune_effekte"] = time.perf_counter() - t
    t = time.perf_counter()
    km = _km_rows(land, frame, specs, sample)
    timings["kaplan_meier"] = time.perf_counter() - t
    timings["gesamt"] = time.perf_counter() - started
    modelle = _model_rows(land, fits, best, frame, fit_frame, decomposition, sample)
    return Results(treiber, effekt, km, modelle, timings)


def _independent(x: np.ndarray) -> tuple[np.ndarray, set[int]]:
    """Drop columns that are linear combinations of the intercept and earlier columns."""
    kept: list[int] = []
    base = np.ones((x.shape[0], 1))
    for j in range(x.shape[1]):
        trial = np.column_stack([base, x[:, [*kept, j]]])
        if np.linalg.matrix_rank(trial) == trial.shape[1]:
            kept.append(j)
    return x[:, kept], set(range(x.shape[1])) - set(kept)


def _treiber_rows(
    land: str, levels: list[_Level], best: aft.AftFit, other: aft.AftFit, sample: bool
) -> pl.DataFrame:
    crit = best.critical_value(KONFIDENZ)
    se = best.se_robust()
    df = max(min(best.n_clusters) - 1, 1)
    rows = []
    for level in levels:
        spec = level.factor
        row = {
            "land": land,
            "faktor": spec.faktor,
            "faktor_bezeichnung": spec.bezeichnung,
            "faktor_ebene": spec.ebene,
            "auspraegung": spec.label(level.value),
            "referenz": None if spec.numeric else spec.label(spec.levels[0]),
            "ist_referenz": level.status == REFERENZ,
            "geschaetzt": False,
            "zeitverhaeltnis": 1.0 if level.status == REFERENZ else None,
            "ki_unten": None,
            "ki_oben": None,
            "koeffizient": 0.0 if level.status == REFERENZ else None,
            "standardfehler": None,
            "p_wert": None,
            "zeitverhaeltnis_vergleichsmodell": None,
            "n_paare": level.n_paare,
            "n_ereignisse": level.n_ereignisse,
            "n_kommunen": level.n_kommunen,
            "n_leistungen": level.n_leistungen,
            "hinweis": level.status,
            "modell": best.model,
            "vergleichsmodell": other.model,
            "sample": sample,
        }
        if level.status is None and level.column is not None:
            j = level.column + 1  # after the intercept
            beta, s = float(best.beta[j]), float(se[j])
            row.update(
                geschaetzt=True,
                zeitverhaeltnis=math.exp(beta),
                ki_unten=math.exp(beta - crit * s),
                ki_oben=math.exp(beta + crit * s),
                koeffizient=beta,
                standardfehler=s,
                p_wert=float(2.0 * stats.t.sf(abs(beta) / s, df)) if s > 0 else None,
                zeitverhaeltnis_vergleichsmodell=math.exp(float(other.beta[j])),
            )
        rows.append(row)
    return pl.DataFrame(rows, schema=TREIBER_SCHEMA)


def _kommune_effects(
    land: str, fit_frame: pl.DataFrame, x: np.ndarray, best: aft.AftFit, sample: bool
) -> tuple[pl.DataFrame, aft.Decomposition]:
    """Own effect per Kommune net of the covariates, the Leistung's difficulty and the
    Kreis's shared effect; the Kreis effect; their product."""
    lower = fit_frame["untere_grenze_tage"].to_numpy()
    upper = fit_frame["obere_grenze_tage"].to_numpy()
    groups = {
        "leistung": fit_frame["leika_key"].to_numpy(),
        "kreis": fit_frame["kreis_ars"].to_numpy(),
        "kommune": fit_frame["ars"].to_numpy(),
    }
    decomposition = aft.decompose(best, x, lower, upper, groups)
    eta = np.column_stack([np.ones(len(x)), x]) @ best.beta
    expected_eta = eta + decomposition.offset(without=("kommune",))
    own = aft.penalised_effects(
        best.model,
        expected_eta,
        lower,
        upper,
        groups["kommune"],
        decomposition.sigma,
        KOMMUNE_PRIOR_SD,
    )
    z = stats.norm.ppf(0.5 + KONFIDENZ / 2.0)
    se = own.se()
    # Adoptions expected by the last snapshot without the own effect.
    end = fit_frame["beobachtet_bis_tage"].to_numpy()
    logsf, _, _ = aft._standard(best.model)
    with np.errstate(divide="ignore"):
        w = (np.log(np.maximum(end, aft.EPSILON_DAYS)) - expected_eta) / decomposition.sigma
    expected = np.bincount(own.index, weights=1.0 - np.exp(logsf(w)), minlength=len(own.units))
    kreis = decomposition.effects["kreis"]
    kreis_of = dict(zip(kreis.units.tolist(), kreis.delta.tolist(), strict=True))
    meta = fit_frame.group_by("ars").agg(
        pl.col("name").first(),
        pl.col("kommunenart").first(),
        pl.col("gebietstyp").first(),
        pl.col("kreis_ars").first(),
        pl.len().alias("n_paare"),
        pl.col("ereignis").sum().cast(pl.Int64).alias("n_ereignisse"),
    )
    effects = pl.DataFrame(
        {"ars": own.units, "delta": own.delta, "se": se, "n_ereignisse_erwartet": expected}
    ).join(meta, on="ars", how="left")
    effects = effects.with_columns(
        kreis_delta=pl.col("kreis_ars").replace_strict(
            kreis_of, default=0.0, return_dtype=pl.Float64
        )
    ).sort("delta", "ars")
    n = effects.height
    frame = effects.select(
        pl.lit(land).alias("land"),
        "ars",
        "name",
        "kommunenart",
        "gebietstyp",
        "kreis_ars",
        pl.col("delta").exp().alias("zeitverhaeltnis"),
        (pl.col("delta") - z * pl.col("se")).exp().alias("ki_unten"),
        (pl.col("delta") + z * pl.col("se")).exp().alias("ki_oben"),
        pl.int_range(1, n + 1, dtype=pl.Int64).alias("rang"),
        pl.lit(n, dtype=pl.Int64).alias("n_kommunen_land"),
        pl.when((pl.col("delta") + z * pl.col("se")) < 0)
        .then(pl.lit("schneller als erwartet"))
        .when((pl.col("delta") - z * pl.col("se")) > 0)
        .then(pl.lit("langsamer als erwartet"))
        .otherwise(pl.lit("im Rahmen"))
        .alias("einordnung"),
        pl.col("kreis_delta").exp().alias("zeitverhaeltnis_kreis"),
        (pl.col("delta") + pl.col("kreis_delta")).exp().alias("zeitverhaeltnis_gesamt"),
        pl.col("n_paare").cast(pl.Int64),
        "n_ereignisse",
        "n_ereignisse_erwartet",
        pl.lit(best.model).alias("modell"),
        pl.lit(sample).alias("sample"),
    )
    return frame.cast(EFFEKT_SCHEMA), decomposition


def _km_rows(land: str, frame: pl.DataFrame, specs: list[Factor], sample: bool) -> pl.DataFrame:
    """A curve over all pairs of the Land and one per level of every categorical factor."""
    months = frame["monate_seit_t0"].to_numpy()
    events = frame["ereignis"].to_numpy()
    parts = [_km_part(land, "gesamt", "alle Paare", "alle", months, events)]
    for spec in specs:
        if spec.numeric:
            continue
        values = _values(frame, spec).to_numpy()
        for value in spec.levels:
            mask = values == value
            if mask.any():
                parts.append(
                    _km_part(
                        land,
                        spec.faktor,
                        spec.bezeichnung,
                        spec.label(value),
                        months[mask],
                        events[mask],
                    )
                )
    return pl.concat(parts).with_columns(pl.lit(sample).alias("sample")).select(list(KM_SCHEMA))


def _km_part(
    land: str,
    faktor: str,
    bezeichnung: str,
    auspraegung: str,
    months: np.ndarray,
    events: np.ndarray,
) -> pl.DataFrame:
    return kaplan_meier.curve(months, events).with_columns(
        pl.lit(land).alias("land"),
        pl.lit(faktor).alias("faktor"),
        pl.lit(bezeichnung).alias("faktor_bezeichnung"),
        pl.lit(auspraegung).alias("auspraegung"),
        pl.lit(len(months), dtype=pl.Int64).alias("n_paare"),
    )


def _model_rows(
    land: str,
    fits: dict[str, aft.AftFit],
    best: aft.AftFit,
    frame: pl.DataFrame,
    fit_frame: pl.DataFrame,
    decomposition: aft.Decomposition,
    sample: bool,
) -> pl.DataFrame:
    rows = []
    for model, fitted in fits.items():
        chosen = fitted is best
        rows.append(
            {
                "land": land,
                "modell": model,
                "bevorzugt": chosen,
                "log_likelihood": fitted.log_likelihood,
                "n_parameter": fitted.n_parameters,
                "aic": fitted.aic,
                "delta_aic": fitted.aic - best.aic,
                "sigma": fitted.sigma,
                "n_paare": frame.height,
                "n_paare_modell": fit_frame.height,
                "n_ereignisse_modell": int(fit_frame["ereignis"].sum()),
                "n_kommunen": fit_frame["ars"].n_unique(),
                "n_leistungen": fit_frame["leika_key"].n_unique(),
                "n_cluster_kreis": fitted.n_clusters[0],
                "n_cluster_leistung": fitted.n_clusters[1],
                "sigma_innerhalb": decomposition.sigma if chosen else None,
                "tau_leistung": decomposition.effects["leistung"].tau if chosen else None,
                "tau_kreis": decomposition.effects["kreis"].tau if chosen else None,
                "tau_kommune": decomposition.effects["kommune"].tau if chosen else None,
                "sample": sample,
            }
        )
    return pl.DataFrame(rows, schema=MODELL_SCHEMA)
