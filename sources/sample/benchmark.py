"""Time and memory of the nationwide sample: every Land's universe and one snapshot's records.

    .venv/bin/python -m sources.sample.benchmark [--snapshot 2026-11-01] [--seed 20251201]

For each of the 16 Länder, one after the other and each dropped before the next (as a run
goes Land by Land): build the universe, emit the snapshot's Dashboard records (every record
of the Land and the Bund, as copies, sorted: what the replay hands out) and the ground truth.
Prints seconds and counts per Land, the totals and the process's peak resident memory
(``resource.getrusage``). Measures synthetic sample data only.
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import date

from sources.sample import generator as gen
from sources.sample.files import gv100ad_frame


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", type=date.fromisoformat, default=gen.SAMPLE_SNAPSHOTS[-1])
    parser.add_argument("--seed", type=int, default=gen.DEFAULT_SEED)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    gv100ad_frame(), gen.load_catalogue()  # parsed once per process, whatever the Land
    gen._bund_layer(args.seed)  # shared by all Länder: built once (with Hessen's model)
    setup = time.perf_counter() - started
    print(f"GV100AD, catalogue and Bund layer: {setup:.2f}s")
    totals = {"build": 0.0, "records": 0.0, "ground_truth": 0.0, "n_records": 0, "n_truth": 0}
    for land in gen.LAND_CODES:
        t0 = time.perf_counter()
        universe = gen.build_universe.__wrapped__(args.seed, land)  # fresh, not cached
        t1 = time.perf_counter()
        records = universe.dashboard_records(
            args.snapshot, universe.land_ars, include_above=True, include_below=True
        )
        t2 = time.perf_counter()
        truth = universe.ground_truth()
        t3 = time.perf_counter()
        print(
            f"{land} {universe.land_name:<24} build {t1 - t0:5.2f}s  records {t2 - t1:5.2f}s "
            f"({len(records):>7,})  ground truth {t3 - t2:5.2f}s ({truth.height:>7,})"
        )
        totals["build"] += t1 - t0
        totals["records"] += t2 - t1
        totals["ground_truth"] += t3 - t2
        totals["n_records"] += len(records)
        totals["n_truth"] += truth.height
        del universe, records, truth
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        f"16 Länder: build {totals['build']:.2f}s, records {totals['records']:.2f}s "
        f"({totals['n_records']:,}; the Bund's counted once per Land), ground truth "
        f"{totals['ground_truth']:.2f}s ({totals['n_truth']:,} rows); total "
        f"{time.perf_counter() - started:.2f}s; peak memory {peak_mib:,.0f} MiB"
    )


if __name__ == "__main__":
    main()
