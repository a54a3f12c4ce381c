"""``ozg run`` over the last N sample snapshots, for the benchmark's scaling curve.

    .venv/bin/python -m benchmarks.ozg_run N run --mode sample [--land 06]

The CLI runs one snapshot (``--snapshot``) or all twelve; everything here is
``pipelines.cli.main`` unchanged except its snapshot selection, which keeps the last N.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date

from pipelines import cli
from sources.config import Settings


def main(argv: Sequence[str]) -> int:
    count, rest = int(argv[0]), list(argv[1:])
    if count < 1:
        raise SystemExit("N must be at least 1")
    select = cli._snapshots

    def last(settings: Settings, requested: date | None) -> list[date]:
        chosen = select(settings, requested)
        return chosen if requested is not None else chosen[-count:]

    cli._snapshots = last  # type: ignore[assignment]
    return cli.main(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
