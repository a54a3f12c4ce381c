"""Read-only access to the published marts (``data/published/ozg.duckdb``, schema ``marts``).

The reports read only what publishing released — never the warehouse dbt writes — so
a report always matches the Parquet/CSV exports BI users see. Publishing replaces the
file atomically; a connection opened here keeps reading the version it opened.

The marts may hold several Länder (column ``land``); the workshop reports are for the
Hessen pilot and read the pilots' Land only (``PILOT_LAND``), so every index, median and
sheet is Hessen's even when other Länder are published next to it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from pipelines.publication.publish import published_dir

SAMPLE_NOTE = "Beispieldaten – synthetisch, keine amtlichen Zahlen"
# The Land of the pilot Kommunen (sources.config.PILOT_ARS): Hessen.
PILOT_LAND = "06"

Row = dict[str, Any]


class ReportError(RuntimeError):
    """A report cannot be built (nothing published, unknown snapshot or ARS)."""


class PilotLandMissing(ReportError):
    """The published marts hold no Stichtag of the pilots' Land: a run over other Länder
    only, about which the workshop reports have nothing to say."""


class PublishedMarts:
    """The published marts as the workshop reports see them: the pilots' Land only."""

    land = PILOT_LAND

    def __init__(self, data_dir: Path) -> None:
        root = published_dir(Path(data_dir))
        self.database = root / "ozg.duckdb"
        if not self.database.exists():
            raise ReportError(
                f"keine veröffentlichten Marts unter {root} – zuerst `ozg run` ausführen"
            )
        self.con = duckdb.connect(str(self.database), read_only=True)
        manifest_path = root / "marts" / "_published.json"
        self.manifest: dict[str, Any] = (
            json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
        )

    def __enter__(self) -> PublishedMarts:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        cursor = self.con.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]

    def one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    # --- publication facts -------------------------------------------------------------

    @property
    def published_at(self) -> str | None:
        return self.manifest.get("published_at")

    @property
    def mode(self) -> str:
        return str(self.manifest.get("mode", "unbekannt"))

    def is_sample(self) -> bool:
        """Sample if the publication says so or any mart row carries the sample flag."""
        if self.manifest.get("sample"):
            return True
        # mart_datenqualitaet has rows even when the Kommune marts are empty.
        flagged = self.one(
            "select bool_or(sample) as s from marts.mart_datenqualitaet where land = ?",
            [self.land],
        )
        return bool(flagged and flagged["s"])

    def snapshots(self) -> list[date]:
        return [
            r["snapshot_date"]
            for r in self.rows(
                "select distinct snapshot_date from marts.mart_peer_vergleich where land = ? "
                "order by 1",
                [self.land],
            )
        ]

    def delivered_snapshots(self) -> list[date]:
        """Stichtage with a promoted partition of the Land, even where the Kommune marts
        are empty (the data-quality mart has a row per delivered table)."""
        return [
            r["snapshot_date"]
            for r in self.rows(
                "select distinct snapshot_date from marts.mart_datenqualitaet where land = ? "
                "order by 1",
                [self.land],
            )
        ]

    def resolve_snapshot(self, requested: date | None) -> date:
        available = self.snapshots()
        if not available:
            raise ReportError("die veröffentlichten Marts enthalten keinen Stichtag")
        if requested is None:
            return available[-1]
        if requested not in available:
            listed = ", ".join(d.isoformat() for d in available)
            raise ReportError(
                f"Stichtag {requested.isoformat()} ist nicht veröffentlicht (vorhanden: {listed})"
            )
        return requested

    def kommunen(self, snapshot: date) -> list[str]:
        return [
            r["ars"]
            for r in self.rows(
                "select distinct ars from marts.mart_verfuegbarkeit_kommune "
                "where snapshot_date = ? and land = ? order by ars",
                [snapshot, self.land],
            )
        ]

    def pilots(self, snapshot: date) -> list[Row]:
        """Pilot Kommunen as the marts flag them (seed pilot_kommunen)."""
        return self.rows(
            "select distinct ars, name from marts.mart_verfuegbarkeit_kommune "
            "where snapshot_date = ? and land = ? and ist_pilot order by ars",
            [snapshot, self.land],
        )
