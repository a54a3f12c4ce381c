"""``make bench``: the pipeline end to end, stage by stage, against the goals of issue 14.

    make bench
    .venv/bin/python -m benchmarks.pipeline_benchmark [--quick | --only hessen]
        [--output BENCHMARKS.md] [--snapshot-counts 1 6 12] [--land-sets 06 05,06,08,09 all]
        [--side-snapshots 4] [--repeats 3] [--keep]

Every end-to-end figure comes from a real ``ozg run --mode sample`` subprocess with a fresh
``OZG_DATA_DIR`` under a temporary directory (the caller's other ``OZG_*`` variables and
``DAGSTER_HOME`` removed). In order:

1. Hessen × 12 snapshots, then the same command again on the same data (no-change rerun);
2. the side-by-side normalisation of ``verfuegbarkeit`` (``benchmarks/engines.py``) on the
   raw files that run landed — its last ``--side-snapshots`` snapshots as landed (CSV
   exports), and the same snapshots landed once more as JSON pages — with validation;
3. the snapshot curve: Hessen × 1 and × 6 (× 12 is step 1; ``--snapshot-counts``);
4. Germany × 1 (``--land all --snapshot 2026-11-01``) and its rerun, and the Länder curve:
   1 (Hessen × 1), 4 and 16 (Germany) Länder × 1 snapshot (``--land-sets``).

Per run: wall time and peak RSS per stage, rows/s and the total. Stage times come from the
Dagster event log of the run's instance and the gate's validation timing
(``benchmarks/stages.py``); RSS is the summed VmRSS of the ``ozg`` process tree (dbt runs as
its child), sampled every 100 ms and attributed to the stage running at that moment
(``benchmarks/procfs.py``). A run of N snapshots other than 1 or 12 goes through
``benchmarks/ozg_run.py``, which is ``ozg run`` choosing the last N sample snapshots.

``--quick``: Hessen × 1, its rerun and the side-by-side on that snapshot (the inner loop).
``--only hessen``: steps 1–3. Sample mode refuses other Länder until the nationwide sample
exists: such runs are reported as unavailable with the CLI's reason, and their TARGET lines
say ``missed`` with that reason.

Output: progress lines, then the tables (Markdown, also written to ``--output``), and last
one line per target: ``TARGET <name> <measured> <goal> met|missed``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from benchmarks import report, stages
from benchmarks.procfs import CpuShare, RssSampler
from benchmarks.report import Target, markdown_table, number

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
# The sample's snapshots (sources.sample.generator.SAMPLE_SNAPSHOTS), without importing it.
ALL_SNAPSHOTS = 12
LAST_SNAPSHOT = "2026-11-01"
GERMANY = "all"
HESSEN = "06"


# What a run's fingerprints hash (tables.py, pipelines/publication/inputs.py): a file changed
# here between a run and its rerun makes the rerun rebuild, which is then no no-change rerun.
CODE_DIRS = ("pipelines", "sources", "dbt_project")
NOT_CODE = ("target", "logs", "dbt_packages", "__pycache__")


def code_changed_since(started: float, root: Path = ROOT) -> list[str]:
    """Files of the code the pipeline fingerprints modified at or after ``started`` (other
    engineers may edit the work tree while the benchmark runs)."""
    changed = []
    for folder in CODE_DIRS:
        for path in sorted((root / folder).rglob("*")):
            relative = path.relative_to(root)
            if any(part in NOT_CODE for part in relative.parts) or not path.is_file():
                continue
            if path.stat().st_mtime >= started:
                changed.append(str(relative))
    return changed


def echo(message: str) -> None:
    print(message, flush=True)


# -- one ozg run ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunSpec:
    lands: str  # --land: "06", "05,06,08,09" or "all"
    snapshots: int  # the last N sample snapshots

    @property
    def laender(self) -> int:
        return 16 if self.lands == GERMANY else len(self.lands.split(","))

    @property
    def label(self) -> str:
        scope = {HESSEN: "Hessen", GERMANY: "Germany"}.get(self.lands, f"Länder {self.lands}")
        return f"{scope} × {self.snapshots}"

    def command(self) -> list[str]:
        arguments = ["run", "--mode", "sample", "--land", self.lands]
        if self.snapshots == 1:
            return [PYTHON, "-m", "pipelines.cli", *arguments, "--snapshot", LAST_SNAPSHOT]
        if self.snapshots == ALL_SNAPSHOTS:
            return [PYTHON, "-m", "pipelines.cli", *arguments]
        return [PYTHON, "-m", "benchmarks.ozg_run", str(self.snapshots), *arguments]


@dataclass
class RunResult:
    spec: RunSpec
    rerun: bool
    returncode: int
    wall_s: float
    peak_rss: int = 0
    stage_s: dict[str, float] = field(default_factory=dict)
    stage_peak: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    failure: str | None = None
    unknown_steps: list[str] = field(default_factory=list)
    started_at: float = 0.0  # epoch seconds
    others_cores: float = 0.0  # cores other processes kept busy meanwhile, on average
    # For a rerun: code files changed since the full run began (it was no no-change rerun).
    code_changes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def verfuegbarkeit_rows(self) -> int:
        return self.rows.get("normalized/verfuegbarkeit", 0)

    def stage_rows(self, stage: str) -> int | None:
        """The rows a stage's rows/s counts: raw records for landing, the four normalised
        tables for normalisation and validation, verfuegbarkeit rows (the facts the marts
        are built from) for the stages after them and the total."""
        if stage == stages.OTHER:
            return None
        if stage == stages.LANDING:
            return sum(n for key, n in self.rows.items() if key.startswith("raw/"))
        if stage in (stages.NORMALISATION, stages.VALIDATION):
            return sum(n for key, n in self.rows.items() if key.startswith("normalized/"))
        return self.verfuegbarkeit_rows


def clean_environment(data_dir: Path) -> dict[str, str]:
    """The caller's environment without OZG_* and DAGSTER_HOME, with the run's data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OZG_") and k != "DAGSTER_HOME"}
    env["OZG_DATA_DIR"] = str(data_dir)
    return env


def failure_reason(output: Sequence[str]) -> str:
    """The CLI's one-line reason (``ozg: FAILED: …``), else the last line it printed."""
    for line in reversed(output):
        if line.startswith("ozg: FAILED:"):
            return line.removeprefix("ozg: FAILED:").strip()
    lines = [line for line in output if line.strip()]
    return lines[-1].strip() if lines else "no output"


def execute(spec: RunSpec, data_dir: Path, *, rerun: bool) -> RunResult:
    command = spec.command()
    shown = " ".join(Path(c).name if c == PYTHON else c for c in command)
    echo(f"  $ OZG_DATA_DIR={data_dir} {shown}")
    started = time.time()
    clock = time.monotonic()
    cpu = CpuShare().start()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=clean_environment(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    sampler = RssSampler(process.pid).start()
    output: list[str] = []
    try:
        assert process.stdout is not None
        quiet = False
        for line in process.stdout:
            output.append(line.rstrip("\n"))
            if not quiet:  # the snapshot and dbt lines; not the list of output paths
                echo(f"    | {line.rstrip()}")
            quiet = quiet or line.startswith("done in")
        process.wait()
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        samples = sampler.stop()
    wall = time.monotonic() - clock
    result = RunResult(
        spec,
        rerun,
        process.returncode,
        wall,
        peak_rss=sampler.peak,
        started_at=started,
        others_cores=cpu.others(),
    )
    if not result.ok:
        result.failure = failure_reason(output)
        echo(f"    failed after {wall:.1f}s: {result.failure}")
        return result
    events = stages.read_run_events(data_dir / "dagster", since=started)
    intervals = events.intervals + stages.validation_intervals(data_dir / "quality", started)
    result.stage_s = stages.stage_seconds(intervals, wall)
    result.stage_peak = stages.stage_peaks(samples, intervals)
    result.rows = events.rows
    result.unknown_steps = events.unknown_steps
    if events.unknown_steps:
        echo(f"    steps counted as 'other': {', '.join(events.unknown_steps)}")
    echo(
        f"    {spec.label}{' rerun' if rerun else ''}: {wall:.1f}s, peak RSS "
        f"{report.gb(result.peak_rss):.2f} GB, {result.verfuegbarkeit_rows:,} verfuegbarkeit rows; "
        f"others kept {result.others_cores:.2f} cores busy"
    )
    return result


# -- the benchmark ---------------------------------------------------------------------------
@dataclass
class Results:
    runs: dict[tuple[RunSpec, bool], RunResult] = field(default_factory=dict)
    comparisons: list = field(default_factory=list)  # engines.Comparison
    side_error: str | None = None
    side_others: float = 0.0
    side_snapshots: list[date] = field(default_factory=list)

    def get(self, spec: RunSpec, rerun: bool = False) -> RunResult | None:
        return self.runs.get((spec, rerun))


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.results = Results()
        self.started = time.monotonic()

    def progress(self, message: str) -> None:
        echo(f"[{time.monotonic() - self.started:6.0f}s] {message}")

    def data_dir(self, spec: RunSpec) -> Path:
        slug = f"{spec.lands.replace(',', '-')}x{spec.snapshots}"
        return self.workdir / slug / "data"

    def run(self, spec: RunSpec, *, rerun: bool = False) -> RunResult:
        if (spec, False) in self.results.runs and not rerun:
            return self.results.runs[(spec, False)]
        self.progress(f"{spec.label}{' no-change rerun' if rerun else ''}")
        result = execute(spec, self.data_dir(spec), rerun=rerun)
        full = self.results.get(spec)
        if rerun and full is not None:
            result.code_changes = code_changed_since(full.started_at)
            if result.code_changes:
                echo(
                    f"    code changed since the full run began: {len(result.code_changes)} "
                    f"file(s), e.g. {', '.join(result.code_changes[:3])}"
                )
        self.results.runs[(spec, rerun)] = result
        return result

    def drop(self, spec: RunSpec) -> None:
        if not self.args.keep:
            shutil.rmtree(self.data_dir(spec).parent, ignore_errors=True)

    def side_by_side(self, spec: RunSpec) -> None:
        from benchmarks import engines

        run_dir = self.data_dir(spec)
        snapshots = _sample_snapshots()[-min(self.args.side_snapshots, spec.snapshots) :]
        self.results.side_snapshots = snapshots
        self.progress(
            f"side-by-side normalisation of verfuegbarkeit on {len(snapshots)} snapshot(s) "
            f"of {spec.label}: landing them once more as JSON pages"
        )
        json_root = engines.land_json_pages(run_dir, self.workdir / "json", snapshots)
        by_format = {
            "csv": engines.partitions(run_dir, run_dir / "raw" / f"land={HESSEN}", snapshots),
            "json": engines.partitions(run_dir, json_root, snapshots),
        }
        self.progress(
            f"side by side: polars, duckdb, pandas (+ validation), {self.args.repeats} "
            "repetitions after a warm-up"
        )
        cpu = CpuShare().start()
        try:
            self.results.comparisons = engines.side_by_side(
                run_dir, by_format, repeats=self.args.repeats, echo=echo
            )
            self.results.side_others = cpu.others()
        finally:
            if not self.args.keep:
                shutil.rmtree(self.workdir / "json", ignore_errors=True)
        for comparison in self.results.comparisons:
            for difference in comparison.differences:
                echo(f"    DIFFERENT RESULT: {difference}")

    def execute(self) -> None:
        args = self.args
        hessen_full = RunSpec(HESSEN, 1 if args.quick else ALL_SNAPSHOTS)
        full = self.run(hessen_full)
        if full.ok:
            self.run(hessen_full, rerun=True)
            try:
                self.side_by_side(hessen_full)
            except Exception as exc:  # reported with the targets, never a crash
                self.results.side_error = f"{type(exc).__name__}: {exc}"
                echo(f"    side-by-side failed: {self.results.side_error}")
        self.drop(hessen_full)
        if args.quick:
            return
        for count in args.snapshot_counts:
            self.run(RunSpec(HESSEN, count))  # × 12 is the run above (cached)
            self.drop(RunSpec(HESSEN, count))
        if args.only == "hessen":
            return
        germany = RunSpec(GERMANY, 1)
        if self.run(germany).ok:
            self.run(germany, rerun=True)
        self.drop(germany)
        for lands in args.land_sets:
            self.run(RunSpec(lands, 1))  # Hessen × 1 and Germany × 1 are cached
            self.drop(RunSpec(lands, 1))


def _sample_snapshots() -> list[date]:
    from sources.sample.generator import SAMPLE_SNAPSHOTS

    return list(SAMPLE_SNAPSHOTS)


# -- tables and targets ----------------------------------------------------------------------
def stage_table(full: RunResult, rerun: RunResult | None) -> str:
    rows = []
    for stage in stages.STAGES:
        seconds = full.stage_s.get(stage, 0.0)
        n = full.stage_rows(stage)
        again = rerun.stage_s.get(stage) if rerun and rerun.ok else None
        rows.append(
            [
                stage,
                f"{seconds:.1f}",
                f"{100 * seconds / full.wall_s:.0f} %",
                _mb(full.stage_peak.get(stage)),
                f"{n:,}" if n is not None else "",
                f"{n / seconds:,.0f}" if n and seconds > 0.05 else "",
                f"{again:.1f}" if again is not None else "",
            ]
        )
    total_rows = full.verfuegbarkeit_rows
    rows.append(
        [
            "**total**",
            f"**{full.wall_s:.1f}**",
            "100 %",
            f"**{_mb(full.peak_rss)}**",
            f"{total_rows:,}",
            f"{total_rows / full.wall_s:,.0f}",
            f"**{rerun.wall_s:.1f}**" if rerun and rerun.ok else "",
        ]
    )
    return markdown_table(
        ["stage", "seconds", "share", "peak RSS MB", "rows", "rows/s", "rerun seconds"], rows
    )


def _busy(cores: float) -> str:
    return f"other processes kept {cores:.1f} cores busy on average"


def _changes_note(rerun: RunResult) -> str:
    if not rerun.code_changes:
        return ""
    shown = ", ".join(rerun.code_changes[:3])
    more = f" and {len(rerun.code_changes) - 3} more" if len(rerun.code_changes) > 3 else ""
    return f"not a no-change rerun: code changed since the full run began ({shown}{more})"


def _mb(value: int | None) -> str:
    return f"{report.mb(value):,.0f}" if value else ""


def side_table(results: Results) -> str:
    from benchmarks import engines

    rows = []
    for c in results.comparisons:
        polars, duckdb, pandas = (c.median(i) for i in engines.IMPLEMENTATIONS)
        validation = c.median(engines.VALIDATION)
        rows.append(
            [
                "CSV exports (as landed)" if c.format == "csv" else "JSON pages",
                c.partitions,
                f"{c.rows:,}",
                f"{polars:.2f}",
                f"{duckdb:.2f}",
                f"{pandas:.2f}",
                f"{polars / duckdb:.2f}",
                f"{pandas / polars:.2f}",
                f"{validation:.2f}" if validation is not None else "",
                f"{100 * validation / (polars + validation):.0f} %" if validation else "",
                "yes" if not c.differences else "**no**",
            ]
        )
    return markdown_table(
        [
            "raw files",
            "snapshots",
            "raw rows",
            "polars s",
            "DuckDB s",
            "pandas s",
            "polars / DuckDB",
            "pandas / polars",
            "validation s",
            "validation share",
            "same result",
        ],
        rows,
    )


@dataclass(frozen=True)
class CurvePoint:
    spec: RunSpec
    result: RunResult | None

    @property
    def available(self) -> bool:
        return self.result is not None and self.result.ok


def curve(results: Results, specs: Sequence[RunSpec]) -> list[CurvePoint]:
    return [CurvePoint(spec, results.get(spec)) for spec in specs]


def curve_exponent(points: Sequence[CurvePoint]) -> float | None:
    usable = [
        (float(p.result.verfuegbarkeit_rows), p.result.wall_s)
        for p in points
        if p.available and p.result and p.result.verfuegbarkeit_rows
    ]
    return report.scaling_exponent(usable)


def curve_table(name: str, points: Sequence[CurvePoint], skip: str | None) -> list[list[str]]:
    rows = []
    previous: RunResult | None = None
    for point in points:
        r = point.result
        if r is None or not r.ok:
            reason = _unavailable(r, skip)
            rows.append(
                [
                    name,
                    point.spec.label,
                    str(point.spec.laender),
                    str(point.spec.snapshots),
                    "",
                    "",
                    "",
                    "",
                    "",
                    reason,
                ]
            )
            continue
        step = ""
        if previous is not None:
            exponents = report.local_exponents(
                [(previous.verfuegbarkeit_rows, previous.wall_s), (r.verfuegbarkeit_rows, r.wall_s)]
            )
            step = f"{exponents[0]:.2f}" if exponents else ""
        rows.append(
            [
                name,
                point.spec.label,
                str(point.spec.laender),
                str(point.spec.snapshots),
                f"{r.verfuegbarkeit_rows:,}",
                f"{r.wall_s:.1f}",
                f"{10_000 * r.wall_s / r.verfuegbarkeit_rows:.2f}" if r.verfuegbarkeit_rows else "",
                _mb(r.peak_rss),
                f"{r.others_cores:.2f}",
                step,
            ]
        )
        previous = r
    return rows


def curves(args: argparse.Namespace) -> tuple[list[RunSpec], list[RunSpec]]:
    snapshots = [RunSpec(HESSEN, n) for n in sorted(set(args.snapshot_counts))]
    laender = sorted({RunSpec(lands, 1) for lands in args.land_sets}, key=lambda s: s.laender)
    return snapshots, laender


def _unavailable(result: RunResult | None, quick_or_only: str | None) -> str:
    if result is None:
        return f"not measured: {quick_or_only}" if quick_or_only else "not run"
    return f"unavailable: {result.failure}"


def targets(args: argparse.Namespace, results: Results) -> list[Target]:
    from benchmarks import engines

    skipped = "--quick" if args.quick else ("--only hessen" if args.only else None)
    not_quick = "--quick" if args.quick else None
    germany = results.get(RunSpec(GERMANY, 1))
    germany_rerun = results.get(RunSpec(GERMANY, 1), True)
    hessen = results.get(RunSpec(HESSEN, ALL_SNAPSHOTS))
    hessen_rerun = results.get(RunSpec(HESSEN, ALL_SNAPSHOTS), True)
    found: list[Target] = []

    def ran(result: RunResult | None) -> bool:
        return result is not None and result.ok

    for name, goal, result, skip in (
        ("germany_1_snapshot_s", 300, germany, skipped),
        ("hessen_12_snapshots_s", 90, hessen, not_quick),
    ):
        if result is not None and result.ok:
            found.append(Target(name, goal, result.wall_s, note=_busy(result.others_cores)))
        else:
            found.append(Target(name, goal, note=_unavailable(result, skip)))
        if name.startswith("germany"):
            found.append(
                Target(
                    "germany_1_snapshot_peak_rss_gb",
                    4,
                    report.gb(germany.peak_rss) if germany is not None and germany.ok else None,
                    note="summed VmRSS of the ozg process tree"
                    if ran(germany)
                    else _unavailable(germany, skipped),
                )
            )
    for name, full, again, skip in (
        ("rerun_hessen_12_pct", hessen, hessen_rerun, not_quick),
        ("rerun_germany_1_pct", germany, germany_rerun, skipped),
    ):
        if full is not None and full.ok and again is not None and again.ok:
            notes = [n for n in (_changes_note(again), _busy(again.others_cores)) if n]
            share = 100 * again.wall_s / full.wall_s
            found.append(Target(name, 10, share, note="; ".join(notes)))
        else:
            found.append(Target(name, 10, note=_unavailable(again or full, skip)))

    comparisons = results.comparisons
    different = [d for c in comparisons for d in c.differences]
    problem = results.side_error or (f"results differ: {different[0]}" if different else None)
    if comparisons and not problem:
        busy = _busy(results.side_others)
        ratios = {
            c.format: c.median(engines.POLARS) / c.median(engines.DUCKDB) for c in comparisons
        }
        speedups = {
            c.format: c.median(engines.PANDAS) / c.median(engines.POLARS) for c in comparisons
        }
        found.append(
            Target(
                "normalisation_vs_duckdb_x",
                1.5,
                max(ratios.values()),
                note="the worse of "
                + ", ".join(f"{f} {r:.2f}" for f, r in ratios.items())
                + f"; {busy}",
            )
        )
        found.append(
            Target(
                "pandas_vs_normalisation_x",
                5,
                min(speedups.values()),
                at_least=True,
                note="the worse of "
                + ", ".join(f"{f} {s:.2f}" for f, s in speedups.items())
                + f"; {busy}",
            )
        )
        csv = next(c for c in comparisons if c.format == "csv")
        polars, validation = csv.median(engines.POLARS), csv.median(engines.VALIDATION)
        assert polars is not None and validation is not None
        found.append(
            Target(
                "validation_share_pct",
                25,
                100 * validation / (polars + validation),
                note=f"verfuegbarkeit, CSV exports; {busy}",
            )
        )
    else:
        note = problem or "side-by-side not run"
        for name, goal, at_least in (
            ("normalisation_vs_duckdb_x", 1.5, False),
            ("pandas_vs_normalisation_x", 5, True),
            ("validation_share_pct", 25, False),
        ):
            found.append(Target(name, goal, at_least=at_least, note=note))

    snapshot_specs, laender_specs = curves(args)
    for name, specs, skip in (
        ("scaling_laender_exponent", laender_specs, skipped),
        ("scaling_snapshots_exponent", snapshot_specs, not_quick),
    ):
        points = curve(results, specs)
        exponent = curve_exponent(points)
        missing = [p for p in points if not p.available]
        if missing:
            reasons = "; ".join(sorted({_unavailable(p.result, skip) for p in missing}))
            labels = ", ".join(p.spec.label for p in missing)
            found.append(Target(name, 1.0, exponent, note=f"no point {labels}: {reasons}"))
        elif exponent is None:
            found.append(Target(name, 1.0, note="fewer than two points"))
        else:
            busy = [p.result.others_cores for p in points if p.result is not None]
            found.append(
                Target(
                    name,
                    1.0,
                    exponent,
                    note="steepest step of wall time in verfuegbarkeit rows; other processes "
                    f"kept {min(busy):.1f}–{max(busy):.1f} cores busy across the points",
                )
            )
    return found


def document(
    args: argparse.Namespace, results: Results, machine: list[tuple[str, str]], seconds: float
) -> str:
    mode = "--quick" if args.quick else ("--only hessen" if args.only else "complete")
    parts = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`benchmarks/pipeline_benchmark.py`); do not edit by hand. "
        f"Run: {mode}, {seconds / 60:.1f} minutes. The machine is shared: the load average "
        "below says how busy it was.",
        "",
        markdown_table(["machine", ""], machine),
        "",
        "## End to end, per stage",
        "",
        "Real `ozg run --mode sample` subprocesses, each on a fresh data directory. Stage "
        "seconds are exclusive (validation is carved out of the normalised asset steps); "
        "*other* is everything outside a step: interpreter start-up, loading the "
        "definitions, `dbt parse`, Dagster's run set-up. Peak RSS is the summed VmRSS of the "
        "`ozg` process tree (dbt included), sampled every 100 ms and attributed to the "
        "stage running at the time. rows/s counts raw records for landing, the four "
        "normalised tables for normalisation and validation, and `verfuegbarkeit` rows for "
        "the stages after them and the total. *rerun seconds*: the same command again on "
        "the same data directory (nothing changed).",
    ]
    shown = (
        [RunSpec(HESSEN, 1)]
        if args.quick
        else [RunSpec(HESSEN, ALL_SNAPSHOTS), RunSpec(GERMANY, 1)]
    )
    for spec in shown:
        full = results.get(spec)
        parts += ["", f"### {spec.label} snapshot(s)", ""]
        if full is None:
            parts.append("Not measured.")
        elif full.ok:
            again = results.get(spec, True)
            parts.append(stage_table(full, again))
            parts.append(
                f"\nOther processes kept {full.others_cores:.2f} cores busy on average during "
                "the run" + (f", {again.others_cores:.2f} during the rerun." if again else ".")
            )
        else:
            parts.append(f"Unavailable: {full.failure}")
    parts += ["", "## No-change rerun", ""]
    rerun_rows = []
    for (spec, rerun), again in results.runs.items():
        full = results.get(spec)
        if rerun and full is not None:
            rerun_rows.append(
                [
                    spec.label,
                    f"{full.wall_s:.1f}",
                    f"{again.wall_s:.1f}" if again.ok else f"failed: {again.failure}",
                    f"{100 * again.wall_s / full.wall_s:.1f} %" if again.ok else "",
                    f"{full.others_cores:.2f} / {again.others_cores:.2f}",
                    _changes_note(again),
                ]
            )
    parts.append(
        markdown_table(
            ["run", "full s", "rerun s", "share", "others' cores (full / rerun)", "note"],
            rerun_rows,
        )
    )
    parts += [
        "",
        "## Normalisation of verfuegbarkeit side by side",
        "",
        "The same landed raw files of the Hessen run, in one process, medians of "
        f"{args.repeats} interleaved repetitions after a warm-up, summed over the snapshots "
        + ", ".join(s.isoformat() for s in results.side_snapshots)
        + ". *polars*: the project's normaliser as the pipeline calls it (reading and "
        "checking the raw files included). *DuckDB*: `read_csv`/`read_json` of the same gzip "
        "files into the same typed table in SQL (the engine reference). *pandas*: "
        "`read_csv`/`json` + `DataFrame` per file and the same rules with pandas string "
        "methods (the baseline). The yardsticks verify no checksums and write no quarantine "
        "messages or records. *same result*: equal tables and quarantine counts. "
        "*validation*: the great-expectations suite as the gate runs it, on the polars "
        "table; its share is of normalisation plus validation.",
        "",
    ]
    if results.comparisons:
        parts.append(side_table(results))
        parts.append(
            f"\nOther processes kept {results.side_others:.2f} cores busy on average meanwhile."
        )
        for c in results.comparisons:
            for difference in c.differences:
                parts.append(f"\n- different result: {difference}")
    else:
        parts.append(f"Not measured: {results.side_error or 'no Hessen run'}")
    snapshot_specs, laender_specs = curves(args)
    skipped = "--quick" if args.quick else ("--only hessen" if args.only else None)
    curve_rows = curve_table(
        "snapshots", curve(results, snapshot_specs), "--quick" if args.quick else None
    ) + curve_table("Länder", curve(results, laender_specs), skipped)
    parts += [
        "",
        "## Scaling",
        "",
        "Wall time of whole runs. *exponent*: b in time ∝ rows^b from the previous point "
        "(b ≤ 1: linear or better). *others' cores*: how many cores other processes kept "
        f"busy on average during the run (the machine is shared; {os.cpu_count()} cores in "
        "all).",
        "",
        markdown_table(
            [
                "curve",
                "run",
                "Länder",
                "snapshots",
                "verfuegbarkeit rows",
                "seconds",
                "s per 10k rows",
                "peak RSS MB",
                "others' cores",
                "exponent",
            ],
            curve_rows,
        ),
    ]
    found = targets(args, results)
    parts += [
        "",
        "## Targets",
        "",
        markdown_table(
            ["target", "measured", "goal", "", "note"],
            [
                [
                    t.name,
                    number(t.measured),
                    f"{t.comparator} {report.goal_text(t.goal)}",
                    "met" if t.met else "**missed**",
                    t.note or "",
                ]
                for t in found
            ],
        ),
        "",
        "```",
        *(report.target_line(t) for t in found),
        "```",
        "",
    ]
    return "\n".join(parts)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="pipeline_benchmark", description=(__doc__ or "").splitlines()[0]
    )
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--quick", action="store_true", help="Hessen × 1 snapshot only")
    scope.add_argument("--only", choices=["hessen"], help="skip every run of other Länder")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--snapshot-counts", type=int, nargs="+", default=[1, 6, ALL_SNAPSHOTS])
    parser.add_argument(
        "--land-sets",
        nargs="+",
        default=[HESSEN, "05,06,08,09", GERMANY],
        help="--land values of the Länder curve (1 snapshot each)",
    )
    parser.add_argument(
        "--side-snapshots", type=int, default=4, help="snapshots of the side-by-side"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions (≥ 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dirs")
    args = parser.parse_args(argv)
    if any(not 1 <= n <= ALL_SNAPSHOTS for n in args.snapshot_counts):
        parser.error(f"--snapshot-counts must lie in 1 … {ALL_SNAPSHOTS}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # great-expectations warns on every regex with a group (format_ags); noise here.
    warnings.filterwarnings("ignore", message="This pattern is interpreted as a regular expression")
    machine = report.machine()
    for label, value in machine:
        echo(f"{label}: {value}")
    echo("warming the file cache: importing the libraries once (not timed)")
    subprocess.run(
        [
            PYTHON,
            "-c",
            "import dagster, dagster_dbt, dbt.cli.main, polars, duckdb, great_expectations, pandas",
        ],
        cwd=ROOT,
        check=False,
    )
    workdir = Path(tempfile.mkdtemp(prefix="ozg-bench-"))
    bench = Bench(args, workdir)
    try:
        bench.execute()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            echo(f"data kept in {workdir}")
    seconds = time.monotonic() - bench.started
    text = document(args, bench.results, machine, seconds)
    args.output.write_text(text, encoding="utf-8")
    echo("")
    echo(text.split("\n## Targets", 1)[0].rstrip())
    echo(f"\nwritten to {args.output} · benchmark took {seconds / 60:.1f} minutes\n")
    for target in targets(args, bench.results):
        echo(report.target_line(target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
