"""Roll-out driver analysis (docs/metrics.md §6.16): which factors go with a faster roll-out
of OZG-Leistungen in the Kommunen, and which Kommunen are faster or slower than their
factors predict. No Dagster here.

This package owns the step between the dbt marts and the analysis marts:

* ``pairs`` — the unit (Träger pairs of Leistungen whose Land-wide first date lies inside
  the window) with its censoring interval and covariates, read read-only from the warehouse;
* ``aft`` — interval-censored log-normal and Weibull AFT fits (lifelines), the two-way
  cluster-robust variance (Kreis × Leistung) and the random-effect decomposition behind the
  Kommune effects;
* ``kaplan_meier`` — Kaplan–Meier curves per factor level for the charts;
* ``drivers`` — one Land's design, fits, "zu wenige Beobachtungen" rule and result frames.

``run`` reads the warehouse, analyses every Land on its own and writes four Parquet files
under ``data/analysis/`` (atomically); the dbt models tagged ``analyse`` publish them as
marts (dbt stays the only writer of the warehouse).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import polars as pl

from pipelines.analysis import drivers, pairs
from pipelines.analysis.drivers import Results
from sources.files import atomic_write

# Output file (without .parquet) → the result frame it holds; the dbt source ``analysis``
# (dbt_project/models/staging/_sources.yml) reads these names.
OUTPUTS = {
    "rollout_treiber": "treiber",
    "rollout_kommune_effekt": "kommune_effekt",
    "rollout_km": "km",
    "rollout_modelle": "modelle",
}


def analysis_dir(data_dir: Path) -> Path:
    return Path(data_dir).resolve() / "analysis"


def analyse(inputs: pairs.Inputs) -> tuple[Results, pl.DataFrame]:
    """Every Land's analysis, concatenated; and the pair table it used. A Land with fewer
    than ``MIN_EREIGNISSE`` adoptions, or whose fit fails, gets no rows and is named in
    ``Results.uebersprungen`` with the reason (the publication goes on without it)."""
    pair_table = pairs.build_pairs(inputs)
    booleans, numerics = pairs.merkmal_columns(inputs.merkmale)
    plattformen = list(dict.fromkeys(inputs.plattformen["plattform"].to_list()))
    koerbe = sorted(set(inputs.koerbe["korb"].to_list()))
    parts = [drivers.empty_results()]
    skipped: dict[str, str] = {}
    for (land,), land_pairs in pair_table.group_by("land", maintain_order=True):
        events = int(land_pairs["ereignis"].sum())
        months = land_pairs.filter("ereignis")["monate_seit_t0"].n_unique()
        if events < drivers.MIN_EREIGNISSE:
            skipped[str(land)] = (
                f"{drivers.ZU_WENIGE}: {events} Einführungen in {land_pairs.height} Paaren "
                f"(mindestens {drivers.MIN_EREIGNISSE})"
            )
            continue
        if months < drivers.MIN_MONATE:
            # One or two months since t0 say how many adopted, hardly how fast: the scale
            # and the time ratios are not separately identified.
            skipped[str(land)] = (
                f"Beobachtungsfenster zu kurz: Einführungen in {months} Monat(en) seit t0 "
                f"(mindestens {drivers.MIN_MONATE})"
            )
            continue
        try:
            result = drivers.analyse_land(
                land_pairs,
                plattformen=plattformen,
                koerbe=koerbe,
                booleans=booleans,
                numerics=numerics,
            )
        except Exception as error:  # lifelines' ConvergenceError, a singular design, …
            skipped[str(land)] = f"nicht schätzbar: {type(error).__name__}: {error}"[:300]
            continue
        result.timings = {f"{land}:{k}": v for k, v in result.timings.items()}
        parts.append(result)
    merged = Results(
        treiber=pl.concat([p.treiber for p in parts]),
        kommune_effekt=pl.concat([p.kommune_effekt for p in parts]),
        km=pl.concat([p.km for p in parts]),
        modelle=pl.concat([p.modelle for p in parts]),
        timings={k: v for p in parts for k, v in p.timings.items()},
        uebersprungen=skipped,
    )
    return merged, pair_table


def write_results(results: Results, out_dir: Path) -> dict[str, Path]:
    """One Parquet file per output, each replaced atomically."""
    written = {}
    for name, attribute in OUTPUTS.items():
        frame: pl.DataFrame = getattr(results, attribute)
        path = Path(out_dir) / f"{name}.parquet"
        written[name] = atomic_write(path, lambda tmp, frame=frame: frame.write_parquet(tmp))
    return written


def run(warehouse: Path, out_dir: Path) -> tuple[Results, dict[str, Path]]:
    """Read ``warehouse`` read-only, analyse and write the outputs into ``out_dir``."""
    started = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        inputs = pairs.read_inputs(con)
    read = time.perf_counter() - started
    results, _ = analyse(inputs)
    results.timings = {"lesen": read, **results.timings}
    written = write_results(results, out_dir)
    results.timings["gesamt"] = time.perf_counter() - started
    return results, written
