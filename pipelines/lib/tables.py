"""Build one normalised table for one snapshot: raw landing → normalise → gate.

The plain functions behind the ``normalized/*`` Dagster assets. Each reads the
complete raw snapshot of its sources (and the promoted partitions of the tables it
validates against), normalises, and runs write-audit-publish.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.lib import normalize
from pipelines.lib.gate import GateResult, run_gate
from pipelines.lib.lake import Lake
from pipelines.lib.quality_report import write_quality_report
from sources import ingest
from sources.config import BUND_ARS, Settings
from sources.landing import SnapshotLanding

TABLES = ("gebiete", "leistungen", "verfuegbarkeit", "onlinedienste")


class RawSnapshotMissing(RuntimeError):
    pass


def _raw(settings: Settings, source: str, snapshot: date) -> SnapshotLanding:
    landing = SnapshotLanding(settings.raw_dir, source, snapshot.isoformat(), mode=settings.mode)
    if not landing.is_complete:
        raise RawSnapshotMissing(
            f"{source}: raw snapshot {snapshot} is not complete in {landing.dir}; "
            "materialise the raw asset first"
        )
    return landing


def _sample(settings: Settings) -> bool:
    return settings.mode == "sample"


def _finish(lake: Lake, result: GateResult) -> GateResult:
    write_quality_report(lake)
    return result


def build_gebiete(settings: Settings, snapshot: date) -> GateResult:
    lake = Lake(settings.data_dir)
    landing = _raw(settings, "destatis_gv100ad", snapshot)
    raw = ingest.read_gv100ad(landing)
    (entry,) = landing.entries()
    result = normalize.normalize_gebiete(
        raw, snapshot, raw_file=entry.name, raw_sha256=entry.sha256, sample=_sample(settings)
    )
    scope = raw.filter((pl.col("land") == settings.land) & pl.col("satzart").is_in(["40", "60"]))
    parameters = {
        "required_ars": sorted(set(scope["ars"].to_list())),
        "land_population": int(scope.filter(pl.col("satzart") == "60")["bevoelkerung"].sum()),
    }
    return _finish(
        lake, run_gate(lake, "gebiete", snapshot, result, parameters, land=settings.land)
    )


def build_leistungen(settings: Settings, snapshot: date) -> GateResult:
    lake = Lake(settings.data_dir)
    result = normalize.normalize_leistungen(
        ingest.read_fim(_raw(settings, "fim", snapshot)),
        ingest.read_dashboard(_raw(settings, "dashboard", snapshot)),
        ingest.read_pvog(_raw(settings, "pvog", snapshot)),
        snapshot,
        sample=_sample(settings),
    )
    return _finish(lake, run_gate(lake, "leistungen", snapshot, result, {}, land=settings.land))


def build_verfuegbarkeit(settings: Settings, snapshot: date) -> GateResult:
    lake = Lake(settings.data_dir)
    gebiete = lake.read("gebiete", snapshot)
    leistungen = lake.read("leistungen", snapshot)
    entries = ingest.read_dashboard(_raw(settings, "dashboard", snapshot))
    result = normalize.normalize_verfuegbarkeit(
        entries, snapshot, gebiete, sample=_sample(settings)
    )
    in_scope = gebiete.filter(
        (pl.col("land") == settings.land)
        & pl.col("ebene").is_in(["Kreis", "Gemeinde"])
        & (pl.col("bevoelkerung") > 0)  # uninhabited gemeindefreie Gebiete have no entries
    )
    parameters = {
        "known_ars": sorted({BUND_ARS, *gebiete["ars"].to_list()}),
        "known_leika": leistungen["leika_key"].to_list(),
        "required_query_ars": sorted(set(in_scope["ars"].to_list())),
    }
    return _finish(
        lake, run_gate(lake, "verfuegbarkeit", snapshot, result, parameters, land=settings.land)
    )


def build_onlinedienste(settings: Settings, snapshot: date) -> GateResult:
    lake = Lake(settings.data_dir)
    leistungen = lake.read("leistungen", snapshot)
    rows = ingest.read_pvog(_raw(settings, "pvog", snapshot))
    result = normalize.normalize_onlinedienste(rows, snapshot, sample=_sample(settings))
    parameters = {"known_leika": leistungen["leika_key"].to_list()}
    return _finish(
        lake, run_gate(lake, "onlinedienste", snapshot, result, parameters, land=settings.land)
    )


BUILDERS = {
    "gebiete": build_gebiete,
    "leistungen": build_leistungen,
    "verfuegbarkeit": build_verfuegbarkeit,
    "onlinedienste": build_onlinedienste,
}
