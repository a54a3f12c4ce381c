"""Hive-partitioned Parquet lake with write-audit-publish, keyed by Land and snapshot.

    data/normalized/<table>/land=<LL>/snapshot=<date>/data.parquet     promoted (read by dbt)
    data/quarantine/<table>/land=<LL>/snapshot=<date>/data.parquet    rows rejected by the rules
    data/quality/unknown_fields/<table>/land=<LL>/snapshot=<date>/data.parquet
                                                         fields beyond the source contracts
    data/normalized/_staging/<table>/land=<LL>/snapshot=<date>/<part>.parquet
                                   part: data, quarantine, unknown_fields (one attempt)
    data/normalized/_rejected/<table>/land=<LL>/snapshot=<date>/<part>.parquet
                                   the same three of an attempt that failed its audit

A partition and its two companions (quarantine, unknown fields) are written to staging
together, the partition is validated, and then all three are promoted by atomic renames
onto their promoted paths — or moved to ``_rejected/`` together. Readers see the old or
the new partition, never a mixture, and a failed audit leaves the old one byte-identical.
No Dagster here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

import polars as pl

from sources.files import atomic_write, atomic_write_text
from sources.identifiers import validate_land

FILE_NAME = "data.parquet"
DATA = FILE_NAME.removesuffix(".parquet")
# A partition's companions travel with it: staged beside it as <part>.parquet, then
# promoted with it or moved to _rejected/ with it. The partition itself goes last.
PARTS = ("quarantine", "unknown_fields", DATA)
PROMOTING = "_promoting"  # journal beside the staged parts while they are being promoted


@dataclass(frozen=True)
class Lake:
    """The lake of one Land (``land``, two digits) under ``data_dir``."""

    data_dir: Path
    land: str

    def __post_init__(self) -> None:
        validate_land(self.land)  # it becomes part of every path below

    @property
    def normalized(self) -> Path:
        return self.data_dir / "normalized"

    def _key(self, snapshot: date) -> Path:
        return Path(f"land={self.land}") / f"snapshot={snapshot.isoformat()}" / FILE_NAME

    def partition(self, table: str, snapshot: date) -> Path:
        return self.normalized / table / self._key(snapshot)

    def staging(self, table: str, snapshot: date) -> Path:
        return self.normalized / "_staging" / table / self._key(snapshot)

    def rejected(self, table: str, snapshot: date) -> Path:
        return self.normalized / "_rejected" / table / self._key(snapshot)

    def quarantine(self, table: str, snapshot: date) -> Path:
        return self.data_dir / "quarantine" / table / self._key(snapshot)

    def unknown_fields(self, table: str, snapshot: date) -> Path:
        """Fields the sources delivered beyond their contracts, per promoted partition."""
        return self.quality_dir() / "unknown_fields" / table / self._key(snapshot)

    def quality_dir(self) -> Path:
        return self.data_dir / "quality"

    def validation_path(self, table: str, snapshot: date) -> Path:
        name = f"{self.land}__{snapshot.isoformat()}__{table}.json"
        return self.quality_dir() / "validations" / name

    def read(self, table: str, snapshot: date) -> pl.DataFrame:
        path = self.partition(table, snapshot)
        if not path.exists():
            raise FileNotFoundError(f"no promoted partition {table} snapshot={snapshot}: {path}")
        return pl.read_parquet(path)

    def previous_snapshot(self, table: str, before: date) -> date | None:
        base = self.normalized / table / f"land={self.land}"
        if not base.exists():
            return None
        snapshots = sorted(
            date.fromisoformat(p.name.removeprefix("snapshot="))
            for p in base.iterdir()
            if p.name.startswith("snapshot=") and (p / FILE_NAME).exists()
        )
        earlier = [s for s in snapshots if s < before]
        return earlier[-1] if earlier else None

    # -- write-audit-publish ---------------------------------------------------------------
    def _promoted(self, table: str, snapshot: date, part: str) -> Path:
        where = {"quarantine": self.quarantine, "unknown_fields": self.unknown_fields}
        return where[part](table, snapshot) if part != DATA else self.partition(table, snapshot)

    def _staged(self, table: str, snapshot: date, part: str) -> Path:
        return self.staging(table, snapshot).with_name(f"{part}.parquet")

    def stage(
        self,
        table: str,
        snapshot: date,
        frame: pl.DataFrame,
        *,
        quarantine: pl.DataFrame,
        unknown_fields: pl.DataFrame,
    ) -> Path:
        """Write the partition and its companions to staging; returns the staged partition."""
        frames = {"quarantine": quarantine, "unknown_fields": unknown_fields, DATA: frame}
        for part in PARTS:
            write_parquet_atomically(frames[part], self._staged(table, snapshot, part))
        return self.staging(table, snapshot)

    def promote(self, table: str, snapshot: date) -> Path:
        """Move the staged partition and its companions to their promoted paths.

        The three renames are not one atomic step: a journal written first records that the
        audit passed, so a process killed between them is rolled forward by ``recover``."""
        journal = self._journal(table, snapshot)
        atomic_write_text(journal, "promote\n")
        promoted = self._move_staged(table, snapshot, partial(self._promoted, table, snapshot))
        journal.unlink()
        return promoted

    def recover(self, table: str, snapshot: date) -> str | None:
        """Settle what a killed process left in staging for this partition: a promotion it
        began (journal present) is finished; an attempt it had not decided on is dropped.
        Returns what was done ("promoted", "discarded") or None."""
        journal = self._journal(table, snapshot)
        if journal.exists():
            self._move_staged(table, snapshot, partial(self._promoted, table, snapshot))
            journal.unlink()
            return "promoted"
        if any(self._staged(table, snapshot, part).exists() for part in PARTS):
            self.discard(table, snapshot)
            return "discarded"
        return None

    def _journal(self, table: str, snapshot: date) -> Path:
        return self.staging(table, snapshot).with_name(PROMOTING)

    def reject(self, table: str, snapshot: date) -> Path:
        """Move the staged partition and its companions to ``_rejected/`` for inspection;
        the promoted ones stay as they were."""
        rejected = self.rejected(table, snapshot)
        return self._move_staged(
            table, snapshot, lambda part: rejected.with_name(f"{part}.parquet")
        )

    def discard(self, table: str, snapshot: date) -> None:
        for part in PARTS:
            self._staged(table, snapshot, part).unlink(missing_ok=True)

    def _move_staged(self, table: str, snapshot: date, target: Callable[[str], Path]) -> Path:
        for part in PARTS:  # the partition last: it is what readers look for
            destination = target(part)
            staged = self._staged(table, snapshot, part)
            if not staged.exists() and destination.exists():
                continue  # moved before the process was killed (``recover``)
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, destination)  # atomic on one fs
        return destination


def write_parquet_atomically(frame: pl.DataFrame, path: Path) -> None:
    # Fixed settings keep re-runs byte-identical for identical input.
    atomic_write(path, lambda tmp: frame.write_parquet(tmp, compression="zstd", statistics=True))
