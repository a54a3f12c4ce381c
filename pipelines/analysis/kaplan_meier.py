"""Kaplan–Meier curves of the time from t0 to adoption, per group (docs/metrics.md §6.16).

Every pair is observed on its Land's monthly snapshots, and its clock starts at a snapshot
(the Land's last one before t0), so all intervals lie on one grid of months: a pair first
online at t0 + m months adopted in month m, a pending pair is known not to have adopted by
month M (its last snapshot). On a common grid the product-limit estimator over the months is
the nonparametric maximum-likelihood estimate for these interval-censored data (Turnbull's
intervals are the months), so lifelines' ``KaplanMeierFitter`` is fitted to the month number
m + 1 (adoptions in month m, pending pairs censored after month M) and read at every month.
The pointwise 95 % band is lifelines' exponential Greenwood interval: it treats pairs as
independent (no clustering), so it is narrower than the model's intervals.
"""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl

KM_SCHEMA = {
    "land": pl.String,
    "faktor": pl.String,
    "faktor_bezeichnung": pl.String,
    "auspraegung": pl.String,
    "monate_seit_t0": pl.Int64,
    "anteil_ausstehend": pl.Float64,
    "anteil_eingefuehrt": pl.Float64,
    "ki_unten": pl.Float64,
    "ki_oben": pl.Float64,
    "n_risiko": pl.Int64,
    "n_ereignisse": pl.Int64,
    "n_zensiert": pl.Int64,
    "n_paare": pl.Int64,
}


def curve(months: np.ndarray, events: np.ndarray) -> pl.DataFrame:
    """One curve: per month m = 0 … max: the share still pending after month m (S), its
    95 % band, the pairs at risk in month m, adopted in it and censored after it."""
    from lifelines import KaplanMeierFitter

    months = np.asarray(months, dtype=np.int64)
    events = np.asarray(events, dtype=bool)
    fitter = KaplanMeierFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter.fit(months + 1, event_observed=events)
    grid = np.arange(0, int(months.max()) + 1) if len(months) else np.arange(0)
    at = grid + 1.0
    survival = fitter.survival_function_at_times(at).to_numpy()
    band = fitter.confidence_interval_survival_function_
    times = band.index.to_numpy()
    position = np.searchsorted(times, at, side="right") - 1
    lower = band.iloc[:, 0].to_numpy()[np.clip(position, 0, None)]
    upper = band.iloc[:, 1].to_numpy()[np.clip(position, 0, None)]
    at_risk = np.array([(months >= m).sum() for m in grid], dtype=np.int64)
    adopted = np.array([(events & (months == m)).sum() for m in grid], dtype=np.int64)
    censored = np.array([(~events & (months == m)).sum() for m in grid], dtype=np.int64)
    return pl.DataFrame(
        {
            "monate_seit_t0": grid,
            "anteil_ausstehend": survival,
            "anteil_eingefuehrt": 1.0 - survival,
            "ki_unten": lower,
            "ki_oben": upper,
            "n_risiko": at_risk,
            "n_ereignisse": adopted,
            "n_zensiert": censored,
        },
        schema={k: v for k, v in KM_SCHEMA.items() if k not in _KEYS and k != "n_paare"},
    )


_KEYS = ("land", "faktor", "faktor_bezeichnung", "auspraegung")
