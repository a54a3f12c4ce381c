"""Hive-partitioned Parquet lake with write-audit-publish, keyed by Land and snapshot.

    data/normalized/<table>/land=<LL>/snapshot=<date>/data.parquet     promoted (read by dbt)
    data/normalized/_staging/<table>/land=<LL>/snapshot=<date>/data.parquet
    data/quarantine/<table>/land=<LL>/snapshot=<date>/data.parquet    rows rejected by the rules
    data/quality/unknown_fields/<table>/land=<LL>/snapshot=<date>/data.parquet
                                                         fields beyond the source contracts

A partition is written to staging, validated, and only then promoted by an atomic
rename of the file onto the promoted path, so readers see the old or the new
partition, never a mixture, and a failed audit leaves the old one byte-identical.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

FILE_NAME = "data.parquet"


@dataclass(frozen=True)
class Lake:
    """The lake of one Land (``land``, two digits) under ``data_dir``."""

    data_dir: Path
    land: str

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

    def stage(self, table: str, snapshot: date, frame: pl.DataFrame) -> Path:
        path = self.staging(table, snapshot)
        write_parquet_atomically(frame, path)
        return path

    def promote(self, table: str, snapshot: date) -> Path:
        staged = self.staging(table, snapshot)
        target = self.partition(table, snapshot)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)  # atomic on one filesystem
        return target

    def discard(self, table: str, snapshot: date) -> None:
        self.staging(table, snapshot).unlink(missing_ok=True)

    def quarantine_staging(self, table: str, snapshot: date) -> Path:
        return self.staging(table, snapshot).with_name("quarantine.parquet")

    def stage_quarantine(self, table: str, snapshot: date, frame: pl.DataFrame) -> Path:
        """The quarantine travels with its partition: staged now, promoted with it."""
        path = self.quarantine_staging(table, snapshot)
        write_parquet_atomically(frame, path)
        return path

    def promote_quarantine(self, table: str, snapshot: date) -> Path:
        target = self.quarantine(table, snapshot)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.quarantine_staging(table, snapshot), target)
        return target

    def unknown_fields_staging(self, table: str, snapshot: date) -> Path:
        return self.staging(table, snapshot).with_name("unknown_fields.parquet")

    def stage_unknown_fields(self, table: str, snapshot: date, frame: pl.DataFrame) -> Path:
        path = self.unknown_fields_staging(table, snapshot)
        write_parquet_atomically(frame, path)
        return path

    def promote_unknown_fields(self, table: str, snapshot: date) -> Path:
        target = self.unknown_fields(table, snapshot)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.unknown_fields_staging(table, snapshot), target)
        return target


def write_parquet_atomically(frame: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex[:8]}-{path.name}")
    try:
        # Fixed settings keep re-runs byte-identical for identical input.
        frame.write_parquet(tmp, compression="zstd", statistics=True)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
