"""What ``make bench`` prints and writes: the machine header, Markdown tables, the scaling
exponent and the TARGET lines (pure functions; ``tests/unit/test_benchmarks.py``)."""

from __future__ import annotations

import itertools
import math
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

LIBRARIES = ("polars", "duckdb", "dbt-core", "dagster", "great_expectations", "pandas")


@dataclass(frozen=True)
class Target:
    """A goal of issue 14: ``measured`` against ``goal`` (at most, or at least when
    ``at_least``); ``note`` says why nothing was measured, or what was."""

    name: str
    goal: float
    measured: float | None = None
    at_least: bool = False
    note: str | None = None

    @property
    def met(self) -> bool:
        if self.measured is None or math.isnan(self.measured):
            return False
        return self.measured >= self.goal if self.at_least else self.measured <= self.goal

    @property
    def comparator(self) -> str:
        return "≥" if self.at_least else "≤"


def number(value: float | None) -> str:
    """A measured value as TARGET lines and tables show it: one decimal from 10 up, two
    below, ``n/a`` when not measured."""
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def goal_text(goal: float) -> str:
    return f"{goal:g}"


def target_line(target: Target) -> str:
    """``TARGET <name> <measured> <goal> met|missed``, then the note in parentheses."""
    line = (
        f"TARGET {target.name} {number(target.measured)} {goal_text(target.goal)} "
        f"{'met' if target.met else 'missed'}"
    )
    return f"{line} ({target.note})" if target.note else line


def local_exponents(points: Sequence[tuple[float, float]]) -> list[float]:
    """For (work, cost) points sorted by work: the exponent b of cost ∝ work^b between each
    pair of neighbours. b ≤ 1 everywhere means cost grows linearly or better."""
    ordered = sorted(points)
    exponents = []
    for (w1, c1), (w2, c2) in itertools.pairwise(ordered):
        if w2 > w1 > 0 and c1 > 0 and c2 > 0:
            exponents.append(math.log(c2 / c1) / math.log(w2 / w1))
    return exponents


def scaling_exponent(points: Sequence[tuple[float, float]]) -> float | None:
    """The steepest local exponent: a superlinear stretch anywhere on the curve shows,
    instead of being averaged away by a cheap start."""
    exponents = local_exponents(points)
    return max(exponents) if exponents else None


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; the first column left-aligned, the others right-aligned."""
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(
                c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)
            )
            + " |"
        )

    rule = "|" + "|".join(
        ":" + "-" * (w + 1) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)
    )
    return "\n".join([line(cells[0]), rule + "|", *(line(r) for r in cells[1:])])


def parse_meminfo(text: str) -> dict[str, int]:
    """``/proc/meminfo`` as bytes per key."""
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            factor = 1024 if len(parts) > 1 and parts[1].lower() == "kb" else 1
            values[key.strip()] = int(parts[0]) * factor
    return values


def gb(value: float) -> float:
    return value / 1e9


def mb(value: float) -> float:
    return value / 1e6


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine() -> list[tuple[str, str]]:
    """Date, CPU, cores, memory, load and library versions, as (label, value) rows."""
    meminfo = parse_meminfo(Path("/proc/meminfo").read_text())
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return [
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("platform", platform.platform()),
        ("CPU", model),
        (
            "cores",
            f"{os.cpu_count()} (os.cpu_count), {len(os.sched_getaffinity(0))} usable "
            "(sched_getaffinity, as nproc)",
        ),
        (
            "memory",
            f"{gb(meminfo['MemTotal']):.1f} GB total, "
            f"{gb(meminfo.get('MemAvailable', 0)):.1f} GB available at the start",
        ),
        ("load average at the start (1, 5, 15 min)", load),
        ("python", platform.python_version()),
        *((name, _version(name)) for name in LIBRARIES),
    ]
