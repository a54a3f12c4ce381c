"""Throughput of normalisation and validation on the sample and on a 10x scaled sample.

    .venv/bin/python benchmarks/normalize_benchmark.py [--scale 10] [--no-tracemalloc]

Lands one sample snapshot offline into a temporary directory, reads the raw frames and
times each ``normalize_*`` function and ``suites.validate`` separately (validation with
the parameters the gate would pass, see ``pipelines/normalisation/tables.py``).
Availability is also run on a frame scaled up by replicating the raw Dashboard rows
under distinct synthetic query ARS and record indexes, so every grain stays unique.

Memory, two figures per step:

* ``py_peak_MiB``: ``tracemalloc`` peak of the step, measured in a second, separate run
  of the step (tracing slows Python down, so it never overlaps the timed run). It sees
  Python allocations only: Polars and Arrow allocate in Rust and are invisible to it.
* ``maxrss_MiB``: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after the timed run,
  the process-wide resident high-water mark (monotonic: it only grows when a step needs
  more memory than any step before it).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.normalisation.normalizers.gebiete import normalize_gebiete
from pipelines.normalisation.normalizers.leistungen import normalize_leistungen
from pipelines.normalisation.normalizers.onlinedienste import normalize_onlinedienste
from pipelines.normalisation.normalizers.verfuegbarkeit import normalize_verfuegbarkeit
from pipelines.normalisation.tables import known_among
from pipelines.quality import suites
from sources import ingest
from sources.config import BUND_ARS, Settings
from sources.landing import SnapshotLanding

SNAPSHOT = date(2026, 2, 1)
LAND = "06"


@dataclass(frozen=True)
class Row:
    step: str
    scale: str
    rows: int
    seconds: float
    py_peak_mib: float | None
    maxrss_mib: float


def _maxrss_mib() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def _measure(
    step: str, scale: str, rows: int, run: Callable[[], object], *, trace: bool
) -> tuple[Row, Any]:
    gc.collect()
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    rss = _maxrss_mib()
    peak = None
    if trace:
        del result
        gc.collect()
        tracemalloc.start()
        result = run()
        peak = tracemalloc.get_traced_memory()[1] / (1024 * 1024)
        tracemalloc.stop()
    return Row(step, scale, rows, seconds, peak, rss), result


def _land(data_dir: Path) -> Settings:
    settings = Settings(mode="sample", data_dir=data_dir)
    ingest.land_destatis(settings, SNAPSHOT)
    ingest.land_dashboard(
        settings, SNAPSHOT, ingest.query_ars(_read(settings, "gv100ad"), settings.land)
    )
    ingest.land_pvog(settings, SNAPSHOT)
    ingest.land_fim(settings, SNAPSHOT)
    return settings


def _read(settings: Settings, what: str) -> pl.DataFrame:
    source = {"gv100ad": "destatis_gv100ad"}.get(what, what)
    landing = SnapshotLanding(
        settings.raw_root(source), source, SNAPSHOT.isoformat(), mode="sample"
    )
    reader = {
        "gv100ad": ingest.read_gv100ad,
        "dashboard": ingest.read_dashboard,
        "pvog": ingest.read_pvog,
        "fim": ingest.read_fim,
    }[what]
    return reader(landing)


def scale_dashboard(entries: pl.DataFrame, factor: int) -> pl.DataFrame:
    """``factor`` copies of the raw entries; copy k > 0 gets query ARS ``9k`` + the original
    ten trailing digits (still 12 digits, never a real ARS) and record indexes shifted by
    k million, so grains and quarantine references stay unique."""
    copies = [entries]
    for k in range(1, factor):
        copies.append(
            entries.with_columns(
                (pl.lit(str(90 + k)) + pl.col("query_ars").str.slice(2)).alias("query_ars"),
                (pl.col("record_index") + k * 1_000_000).cast(pl.Int32),
            )
        )
    return pl.concat(copies)


def _validate(table: str, frame: pl.DataFrame, parameters: dict[str, Any]) -> suites.Validation:
    bounds = {"min_rows_vs_previous": 0, "max_rows_vs_previous": None}
    return suites.validate(table, frame, SNAPSHOT.isoformat(), {**bounds, **parameters}, land=LAND)


def run(factor: int, trace: bool) -> list[Row]:
    rows: list[Row] = []

    def measure(step: str, scale: str, n: int, fn: Callable[[], object]) -> Any:
        row, result = _measure(step, scale, n, fn, trace=trace)
        rows.append(row)
        return result

    with tempfile.TemporaryDirectory(prefix="ozg-bench-") as tmp:
        start = time.perf_counter()
        settings = _land(Path(tmp))
        print(f"landed sample snapshot {SNAPSHOT} in {time.perf_counter() - start:.1f} s")
        gv100ad = _read(settings, "gv100ad")
        entries = _read(settings, "dashboard")
        pvog_rows = _read(settings, "pvog")
        catalogue = _read(settings, "fim")

    start = time.perf_counter()
    suites._gx()  # import and context set-up once, not part of any step
    print(f"great-expectations import + context: {time.perf_counter() - start:.1f} s")

    gebiete = measure(
        "normalize gebiete",
        "1x",
        gv100ad.height,
        lambda: normalize_gebiete(
            gv100ad, SNAPSHOT, raw_file="gv100ad.zip", raw_sha256="0" * 64, sample=True
        ),
    ).table
    scope = gv100ad.filter((pl.col("land") == LAND) & pl.col("satzart").is_in(["40", "60"]))
    measure(
        "validate gebiete",
        "1x",
        gebiete.height,
        lambda: _validate(
            "gebiete",
            gebiete,
            {
                "required_ars": sorted(set(scope["ars"].to_list())),
                "land_population": int(
                    scope.filter(pl.col("satzart") == "60")["bevoelkerung"].sum()
                ),
            },
        ),
    )
    leistungen = measure(
        "normalize leistungen",
        "1x",
        catalogue.height + entries.height + pvog_rows.height,
        lambda: normalize_leistungen(catalogue, entries, pvog_rows, SNAPSHOT, sample=True),
    ).table
    measure(
        "validate leistungen",
        "1x",
        leistungen.height,
        lambda: _validate("leistungen", leistungen, {}),
    )
    known_leika = leistungen["leika_key"].to_list()
    onlinedienste = measure(
        "normalize onlinedienste",
        "1x",
        pvog_rows.height,
        lambda: normalize_onlinedienste(pvog_rows, SNAPSHOT, sample=True),
    ).table
    measure(
        "validate onlinedienste",
        "1x",
        onlinedienste.height,
        lambda: _validate(
            "onlinedienste",
            onlinedienste,
            {"known_leika": known_among(known_leika, onlinedienste["leika_key"])},
        ),
    )

    in_scope = gebiete.filter(
        (pl.col("land") == LAND)
        & pl.col("ebene").is_in(["Kreis", "Gemeinde"])
        & (pl.col("bevoelkerung") > 0)
    )
    required_query_ars = sorted(set(in_scope["ars"].to_list()))
    known_ars = {BUND_ARS, *gebiete["ars"]}
    for scale, frame in (("1x", entries), (f"{factor}x", scale_dashboard(entries, factor))):
        result = measure(
            "normalize verfuegbarkeit",
            scale,
            frame.height,
            lambda frame=frame: normalize_verfuegbarkeit(frame, SNAPSHOT, gebiete, sample=True),
        )
        assert result.table.height + result.quarantine.height == frame.height
        table = result.table
        # The value sets the gate passes (pipelines/normalisation/tables.py).
        parameters = {
            "known_ars": known_among(known_ars, table["ars"]),
            "known_leika": known_among(known_leika, table["leika_key"]),
            "required_query_ars": required_query_ars,
        }
        validation = measure(
            "validate verfuegbarkeit",
            scale,
            table.height,
            lambda table=table, parameters=parameters: _validate(
                "verfuegbarkeit", table, parameters
            ),
        )
        assert validation.passed, validation.summary()
    # The same 1x validation with every known value (all 16,000 GV100AD ARS, every LeiKa
    # key), as the gate passed them before tables.known_among: what those value sets cost.
    table = normalize_verfuegbarkeit(entries, SNAPSHOT, gebiete, sample=True).table
    every_known = {
        "known_ars": sorted(known_ars),
        "known_leika": known_leika,
        "required_query_ars": required_query_ars,
    }
    measure(
        "validate verfuegbarkeit*",
        "1x",
        table.height,
        lambda: _validate("verfuegbarkeit", table, every_known),
    )
    return rows


def _print(rows: list[Row]) -> None:
    header = (
        f"{'step':<26}{'scale':>6}{'rows':>11}{'seconds':>9}{'rows/s':>12}"
        f"{'py_peak_MiB':>13}{'maxrss_MiB':>12}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        peak = "-" if r.py_peak_mib is None else f"{r.py_peak_mib:.1f}"
        print(
            f"{r.step:<26}{r.scale:>6}{r.rows:>11,}{r.seconds:>9.3f}"
            f"{r.rows / r.seconds:>12,.0f}{peak:>13}{r.maxrss_mib:>12.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10, help="replication factor (default 10)")
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="skip the traced second run of each step"
    )
    args = parser.parse_args()
    # great-expectations warns on every regex with a group (format_ags); noise here.
    warnings.filterwarnings("ignore", message="This pattern is interpreted as a regular expression")
    print(f"platform: {platform.platform()}; python {platform.python_version()}")
    print(f"cpu_count: {os.cpu_count()}; polars {pl.__version__} ({pl.thread_pool_size()} threads)")
    print(f"great-expectations {version('great_expectations')}")
    rows = run(args.scale, trace=not args.no_tracemalloc)
    print()
    _print(rows)
    print(
        "\nrows: input rows of a normalize step, table rows of a validate step. "
        "py_peak_MiB: tracemalloc peak (Python heap only, separate run). "
        "maxrss_MiB: process max RSS after the step (getrusage, monotonic). "
        "*: every known value (all GV100AD ARS, every LeiKa key) instead of the gate's sets."
    )


if __name__ == "__main__":
    main()
