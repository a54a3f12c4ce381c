"""Interval-censored accelerated-failure-time (AFT) models: the fit (lifelines), the
two-way cluster-robust variance and the Kommune effects (docs/metrics.md §6.16).

Both models are location–scale models on the log of the time to adoption T:

    log T = x'β + σ · W,   W ~ N(0, 1) (log-normal) or W ~ standard minimum extreme value
                            (Weibull: S_W(w) = exp(−e^w), lifelines' ρ = 1/σ)

so exp(β_j) is a **time ratio** in both: the factor by which the time to adoption is
multiplied when x_j rises by one (or for the level against the reference). Every pair is
interval-censored, (a, b] with b = ∞ for a pair still pending at the last snapshot; its
likelihood contribution is S(a) − S(b).

lifelines fits the model and supplies the model-based variance (the inverse Hessian). It has
no cluster-robust variance for several cluster dimensions, so the scores per pair are
computed here in closed form (the derivative of log(S(a) − S(b)) by μ and by log σ) and the
variance is the sandwich V (M_A + M_B − M_AB) V of Cameron, Gelbach and Miller (2011), with
M_C = Σ_c (Σ_{i∈c} s_i)(Σ_{i∈c} s_i)' · G_C / (G_C − 1) for each clustering C (A: Kommune side,
B: Leistung, AB: their intersection) and negative eigenvalues of the result set to zero.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

LOGNORMAL = "lognormal_aft"
WEIBULL = "weibull_aft"
MODELS = (LOGNORMAL, WEIBULL)
# lifelines works best with durations of order one: days are scaled to this unit internally.
TIME_SCALE_DAYS = 100.0
# The lower bound 0 of the first interval (adopted at the Land's first snapshot) as a tiny
# positive time: log 0 is −∞ and the Weibull score would be 0 · ∞ there; S(ε) = 1 to
# machine precision for any plausible fit.
EPSILON_DAYS = 1e-3


@dataclass(frozen=True)
class AftFit:
    """One fitted model. ``beta`` and the variances are over ``columns`` (the first is the
    intercept); ``log_sigma`` is log σ of the log-time scale (for the Weibull −log ρ)."""

    model: str
    columns: tuple[str, ...]
    beta: np.ndarray
    log_sigma: float
    log_likelihood: float
    n_parameters: int
    vcov_model: np.ndarray  # model-based (inverse Hessian), over (β, log σ)
    vcov_robust: np.ndarray  # two-way cluster-robust, over (β, log σ)
    n_clusters: tuple[int, int]  # (Kommune side, Leistung)

    @property
    def aic(self) -> float:
        return -2.0 * self.log_likelihood + 2.0 * self.n_parameters

    @property
    def sigma(self) -> float:
        return float(np.exp(self.log_sigma))

    def se_robust(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.vcov_robust), 0.0, None))

    def critical_value(self, level: float = 0.95) -> float:
        """Student-t quantile with min(G_A, G_B) − 1 degrees of freedom (few clusters)."""
        df = max(min(self.n_clusters) - 1, 1)
        return float(stats.t.ppf(0.5 + level / 2.0, df))


def _standard(model: str) -> tuple:
    """(log survival, density, d log density / dw) of the standard error distribution W."""
    if model == LOGNORMAL:

        def logsf_normal(w: np.ndarray) -> np.ndarray:
            return special.log_ndtr(-w)

        def pdf_normal(w: np.ndarray) -> np.ndarray:
            return np.exp(-0.5 * w * w) / np.sqrt(2.0 * np.pi)

        return (logsf_normal, pdf_normal, lambda w: -w)
    if model == WEIBULL:

        def logsf(w: np.ndarray) -> np.ndarray:
            return -np.exp(w)

        def pdf(w: np.ndarray) -> np.ndarray:
            return np.exp(w - np.exp(w))

        return (logsf, pdf, lambda w: 1.0 - np.exp(w))
    raise ValueError(f"unknown model {model!r}")


def interval_terms(
    model: str, lower: np.ndarray, upper: np.ndarray, eta: np.ndarray, sigma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per pair: the log-likelihood log(S(a) − S(b)) and its derivatives by μ (first and
    second) and by log σ, for log T = μ + σW with μ = ``eta``; times in days."""
    logsf, pdf, dlogpdf = _standard(model)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        za = (np.log(np.maximum(lower, EPSILON_DAYS)) - eta) / sigma
        finite_b = np.isfinite(upper)
        zb = np.where(finite_b, (np.log(np.where(finite_b, upper, 1.0)) - eta) / sigma, np.inf)
        log_sa = logsf(za)
        log_sb = np.where(finite_b, logsf(np.where(finite_b, zb, 0.0)), -np.inf)
        # log(S(a) − S(b)) = log S(a) + log(1 − S(b)/S(a)), stable in both tails.
        ratio = np.exp(log_sb - log_sa)
        loglik = log_sa + np.log1p(-np.clip(ratio, 0.0, 1.0 - 1e-15))
        diff = np.exp(loglik)
        fa = pdf(za)
        fb = np.where(finite_b, pdf(np.where(finite_b, zb, 0.0)), 0.0)
        zfa = np.where(np.isfinite(za), za * fa, 0.0)
        zfb = np.where(finite_b, np.where(finite_b, zb, 0.0) * fb, 0.0)
        d_mu = (fa - fb) / (sigma * diff)
        d_log_sigma = (zfa - zfb) / diff
        # f'(z) = f(z) · dlogf(z); d²ll/dμ² = [−f'(a) + f'(b)] / (σ² D) − (d_mu)².
        dfa = np.where(np.isfinite(za), fa * dlogpdf(np.where(np.isfinite(za), za, 0.0)), 0.0)
        dfb = np.where(finite_b, fb * dlogpdf(np.where(finite_b, zb, 0.0)), 0.0)
        d2_mu = (-dfa + dfb) / (sigma**2 * diff) - d_mu**2
    return loglik, d_mu, d2_mu, d_log_sigma


def scores(
    model: str,
    x: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    beta: np.ndarray,
    log_sigma: float,
) -> np.ndarray:
    """Per-pair score vectors (n × (p + 1)) of the log-likelihood by (β, log σ)."""
    _, d_mu, _, d_log_sigma = interval_terms(
        model, lower, upper, x @ beta, float(np.exp(log_sigma))
    )
    return np.column_stack([x * d_mu[:, None], d_log_sigma])


def cluster_meat(score: np.ndarray, clusters: np.ndarray) -> tuple[np.ndarray, int]:
    """Σ_c g_c g_c' with g_c the score sum of cluster c, times G / (G − 1); and G."""
    codes, index = np.unique(clusters, return_inverse=True)
    sums = np.zeros((len(codes), score.shape[1]))
    np.add.at(sums, index, score)
    g = len(codes)
    factor = g / (g - 1) if g > 1 else 1.0
    return factor * sums.T @ sums, g


def two_way_vcov(
    bread: np.ndarray, score: np.ndarray, cluster_a: np.ndarray, cluster_b: np.ndarray
) -> tuple[np.ndarray, tuple[int, int]]:
    """V (M_A + M_B − M_AB) V, made positive semi-definite; and (G_A, G_B)."""
    meat_a, g_a = cluster_meat(score, cluster_a)
    meat_b, g_b = cluster_meat(score, cluster_b)
    both = np.char.add(np.char.add(cluster_a.astype(str), "\x1f"), cluster_b.astype(str))
    meat_ab, _ = cluster_meat(score, both)
    vcov = bread @ (meat_a + meat_b - meat_ab) @ bread
    vcov = (vcov + vcov.T) / 2.0
    values, vectors = np.linalg.eigh(vcov)
    if (values < 0).any():
        vcov = (vectors * np.clip(values, 0.0, None)) @ vectors.T
    return vcov, (g_a, g_b)


def fit(
    model: str,
    x: np.ndarray,
    columns: tuple[str, ...],
    lower: np.ndarray,
    upper: np.ndarray,
    cluster_a: np.ndarray,
    cluster_b: np.ndarray,
) -> AftFit:
    """Fit ``model`` to intervals (``lower``, ``upper``] in days (``upper`` = ∞ for pending
    pairs). ``x`` holds the covariates without intercept, named by ``columns``."""
    from lifelines import LogNormalAFTFitter, WeibullAFTFitter

    names = [f"x{j}" for j in range(x.shape[1])]
    frame = pd.DataFrame(x, columns=names)
    frame["_lower"] = np.maximum(lower, EPSILON_DAYS) / TIME_SCALE_DAYS
    frame["_upper"] = upper / TIME_SCALE_DAYS
    fitter = LogNormalAFTFitter() if model == LOGNORMAL else WeibullAFTFitter()
    primary = "mu_" if model == LOGNORMAL else "lambda_"
    ancillary = "sigma_" if model == LOGNORMAL else "rho_"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter.fit_interval_censoring(frame, lower_bound_col="_lower", upper_bound_col="_upper")
    params = fitter.params_
    beta = np.array(
        [params[(primary, "Intercept")] + np.log(TIME_SCALE_DAYS)]
        + [params[(primary, name)] for name in names]
    )
    log_scale = float(params[(ancillary, "Intercept")])
    log_sigma = log_scale if model == LOGNORMAL else -log_scale
    order = [(primary, "Intercept"), *((primary, n) for n in names), (ancillary, "Intercept")]
    vcov = fitter.variance_matrix_.loc[order, order].to_numpy()
    if model == WEIBULL:  # log σ = −log ρ: flip the sign of its row and column
        flip = np.ones(len(order))
        flip[-1] = -1.0
        vcov = vcov * np.outer(flip, flip)
    design = np.column_stack([np.ones(len(x)), x])
    score = scores(model, design, lower, upper, beta, log_sigma)
    vcov_robust, n_clusters = two_way_vcov(vcov, score, cluster_a, cluster_b)
    loglik = float(interval_terms(model, lower, upper, design @ beta, np.exp(log_sigma))[0].sum())
    return AftFit(
        model=model,
        columns=("Intercept", *columns),
        beta=beta,
        log_sigma=log_sigma,
        # In days (lifelines' is in its time unit: the density part differs by n · log 100,
        # the interval likelihood not at all — every pair here is interval-censored).
        log_likelihood=loglik,
        n_parameters=len(order),
        vcov_model=vcov,
        vcov_robust=vcov_robust,
        n_clusters=n_clusters,
    )


@dataclass(frozen=True)
class Effects:
    """Normal random effects on the log-time scale for one grouping: the units (codes), the
    posterior modes δ and their information −Σ d²ll/dδ² (without the prior), and τ."""

    units: np.ndarray
    index: np.ndarray  # per pair: position of its unit in ``units``
    delta: np.ndarray
    information: np.ndarray
    tau: float

    def offset(self) -> np.ndarray:
        return self.delta[self.index]

    def se(self) -> np.ndarray:
        """Posterior standard deviation 1 / √(information + 1/τ²)."""
        return 1.0 / np.sqrt(self.information + 1.0 / self.tau**2)


@dataclass(frozen=True)
class Decomposition:
    """x'β̂ plus crossed random effects per grouping (e.g. Leistung, Kreis, Kommune), with
    the residual scale σ_e re-estimated given them."""

    effects: dict[str, Effects]
    sigma: float

    def offset(self, *, without: tuple[str, ...] = ()) -> np.ndarray | float:
        parts = [e.offset() for name, e in self.effects.items() if name not in without]
        return np.sum(parts, axis=0) if parts else 0.0


def decompose(
    fitted: AftFit,
    x: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    groups: dict[str, np.ndarray],
    *,
    rounds: int = 30,
) -> Decomposition:
    """Empirical-Bayes random effects δ ~ N(0, τ²) for every grouping in ``groups`` on top of
    the fitted model's linear predictor (β̂ fixed): backfitting — each grouping's posterior
    modes given the others' offsets, τ² by the EM update τ² = mean(δ̂² + v̂), then σ_e by
    maximum likelihood given all offsets — until σ_e settles. For the log-normal model with
    normal effects the marginal β equals the conditional one, so β̂ of the pooled fit is kept."""
    from scipy.optimize import minimize_scalar

    eta = np.column_stack([np.ones(len(x)), x]) @ fitted.beta
    n = len(eta)
    sigma = fitted.sigma
    state: dict[str, Effects] = {}
    for name, units in groups.items():
        codes, index = np.unique(units, return_inverse=True)
        state[name] = Effects(codes, index, np.zeros(len(codes)), np.zeros(len(codes)), 0.3)
    for _ in range(rounds):
        previous = sigma
        for name, effects in state.items():
            others = sum(
                (e.offset() for other, e in state.items() if other != name), start=np.zeros(n)
            )
            state[name] = _empirical_bayes(fitted.model, lower, upper, eta + others, sigma, effects)
        total = eta + sum((e.offset() for e in state.values()), start=np.zeros(n))

        def negative(log_s: float, total: np.ndarray = total) -> float:
            terms = interval_terms(fitted.model, lower, upper, total, float(np.exp(log_s)))
            return -float(terms[0].sum())

        result = minimize_scalar(
            negative, bounds=(np.log(sigma) - 1.0, np.log(sigma) + 1.0), method="bounded"
        )
        sigma = float(np.exp(result.x))
        if abs(sigma - previous) < 1e-5:
            break
    return Decomposition(state, sigma)


def penalised_effects(
    model: str,
    eta: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    units: np.ndarray,
    sigma: float,
    prior_sd: float,
) -> Effects:
    """Each unit's effect δ_g in log T = η + δ_g + σW as the posterior mode under a fixed,
    weak prior δ_g ~ N(0, prior_sd²): nearly the maximum-likelihood estimate where the unit
    has information, and finite where it has none (no adoption at all)."""
    codes, index = np.unique(units, return_inverse=True)
    delta, info = _posterior_modes(
        model, lower, upper, eta, sigma, index, len(codes), prior_sd**2, np.zeros(len(codes))
    )
    return Effects(codes, index, delta, info, prior_sd)


def _empirical_bayes(
    model: str,
    lower: np.ndarray,
    upper: np.ndarray,
    eta: np.ndarray,
    sigma: float,
    start: Effects,
    *,
    iterations: int = 300,
) -> Effects:
    g = len(start.units)
    tau2, delta, info = start.tau**2, start.delta, start.information
    for _ in range(iterations):
        delta, info = _posterior_modes(model, lower, upper, eta, sigma, start.index, g, tau2, delta)
        new = max(float(np.mean(delta**2 + 1.0 / (info + 1.0 / tau2))), 1e-6)
        done = abs(new - tau2) < 1e-7
        tau2 = new
        if done:
            break
    delta, info = _posterior_modes(model, lower, upper, eta, sigma, start.index, g, tau2, delta)
    return Effects(start.units, start.index, delta, info, float(np.sqrt(tau2)))


def _posterior_modes(
    model: str,
    lower: np.ndarray,
    upper: np.ndarray,
    eta: np.ndarray,
    sigma: float,
    index: np.ndarray,
    g: int,
    tau2: float,
    start: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps on every unit at once (the penalised log-likelihood is concave in δ:
    both error distributions are log-concave). Returns the modes and the information
    −Σ d²ll/dμ² at them."""
    delta = start.copy()
    info = np.zeros(g)
    for _ in range(100):
        _, d_mu, d2_mu, _ = interval_terms(model, lower, upper, eta + delta[index], sigma)
        grad = np.bincount(index, weights=d_mu, minlength=g) - delta / tau2
        info = -np.bincount(index, weights=d2_mu, minlength=g)
        step = grad / (info + 1.0 / tau2)
        step = np.clip(step, -1.0, 1.0)  # damped: far from the mode the curvature is small
        delta = delta + step
        if np.max(np.abs(step)) < 1e-9:
            break
    return delta, np.maximum(info, 0.0)
