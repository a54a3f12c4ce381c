"""Build one normalised table for one snapshot: raw landing → normalise → gate.

The plain functions behind the ``normalized/*`` Dagster assets. Each reads the
complete raw snapshot of its sources (and the promoted partitions of the tables it
validates against), normalises, and runs write-audit-publish. ``build`` skips the work
when the partition promoted last was built from identical inputs and code.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import sys
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from pipelines import lake as lake_module
from pipelines.lake import Lake
from pipelines.normalisation import gate, normalize, normalizers, rules
from pipelines.normalisation.gate import GateResult, run_gate
from pipelines.quality import contracts, suites
from pipelines.quality.report import write_quality_report
from sources import contract, dashboard, destatis, fim, ingest, pvog
from sources.config import BUND_ARS, Settings
from sources.contract import DriftLog
from sources.files import atomic_write_text
from sources.landing import SnapshotLanding

TABLES = ("gebiete", "leistungen", "verfuegbarkeit", "onlinedienste")


class RawSnapshotMissing(RuntimeError):
    pass


def _raw(settings: Settings, source: str, snapshot: date) -> SnapshotLanding:
    landing = SnapshotLanding(
        settings.raw_root(source), source, snapshot.isoformat(), mode=settings.mode
    )
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
    lake = Lake(settings.data_dir, settings.land)
    landing = _raw(settings, "destatis_gv100ad", snapshot)
    drift = DriftLog("destatis_gv100ad")
    raw = ingest.read_gv100ad(landing, drift=drift)
    (entry,) = landing.entries()
    result = normalizers.gebiete.normalize_gebiete(
        raw, snapshot, raw_file=entry.name, raw_sha256=entry.sha256, sample=_sample(settings)
    ).with_unknown_fields("gebiete", snapshot, [drift], sample=_sample(settings))
    scope = raw.filter((pl.col("land") == settings.land) & pl.col("satzart").is_in(["40", "60"]))
    parameters = {
        "required_ars": sorted(set(scope["ars"].to_list())),
        "land_population": int(scope.filter(pl.col("satzart") == "60")["bevoelkerung"].sum()),
    }
    return _finish(
        lake, run_gate(lake, "gebiete", snapshot, result, parameters, land=settings.land)
    )


def build_leistungen(settings: Settings, snapshot: date) -> GateResult:
    lake = Lake(settings.data_dir, settings.land)
    # Each source's unknown fields are recorded with the one table built from it alone
    # (FIM here, the Dashboard with verfuegbarkeit, PVOG with onlinedienste).
    drift = DriftLog("fim")
    result = normalizers.leistungen.normalize_leistungen(
        ingest.read_fim(_raw(settings, "fim", snapshot), drift=drift),
        ingest.read_dashboard(_raw(settings, "dashboard", snapshot)),
        ingest.read_pvog(_raw(settings, "pvog", snapshot)),
        snapshot,
        sample=_sample(settings),
    ).with_unknown_fields("leistungen", snapshot, [drift], sample=_sample(settings))
    return _finish(lake, run_gate(lake, "leistungen", snapshot, result, {}, land=settings.land))


def build_verfuegbarkeit(settings: Settings, snapshot: date) -> GateResult:
    lake = Lake(settings.data_dir, settings.land)
    gebiete = lake.read("gebiete", snapshot)
    leistungen = lake.read("leistungen", snapshot)
    drift = DriftLog("dashboard")
    landing = _raw(settings, "dashboard", snapshot)
    entries = ingest.read_dashboard(landing, drift=drift)
    result = normalizers.verfuegbarkeit.normalize_verfuegbarkeit(
        entries, snapshot, gebiete, sample=_sample(settings)
    ).with_unknown_fields("verfuegbarkeit", snapshot, [drift], sample=_sample(settings))
    parameters = verfuegbarkeit_parameters(
        settings.land, landing, entries, result.table, gebiete, leistungen
    )
    return _finish(
        lake, run_gate(lake, "verfuegbarkeit", snapshot, result, parameters, land=settings.land)
    )


def verfuegbarkeit_parameters(
    land: str,
    landing: SnapshotLanding,
    entries: pl.DataFrame,
    table: pl.DataFrame,
    gebiete: pl.DataFrame,
    leistungen: pl.DataFrame,
) -> dict[str, Any]:
    """The suite parameters of a ``verfuegbarkeit`` partition: ``table`` normalised from the
    landed ``entries`` of ``landing``, checked against ``gebiete`` and ``leistungen``."""
    in_scope = gebiete.filter(
        (pl.col("land") == land)
        & pl.col("ebene").is_in(["Kreis", "Gemeinde"])
        & (pl.col("bevoelkerung") > 0)  # uninhabited gemeindefreie Gebiete have no entries
    )
    # A query the API answered with no entries at all (a small Gemeinde without own
    # services, an ARS retired by a territorial reform) was pulled completely; a query
    # whose entries were all rejected was not, and blocks the gate.
    answered_empty = _answered_empty(landing, entries)
    if len(answered_empty) > EMPTY_ANSWER_LIMIT * len(in_scope):
        # Most of the Land answered empty: the pull itself is suspect (wrong host, a Land
        # the API does not cover); every missing query is named by the gate.
        answered_empty = set()
    return {
        "known_ars": known_among({BUND_ARS, *gebiete["ars"]}, table["ars"]),
        "known_leika": known_among(leistungen["leika_key"], table["leika_key"]),
        "required_query_ars": sorted(set(in_scope["ars"].to_list()) - answered_empty),
    }


def known_among(known: Iterable[str | None], column: pl.Series) -> list[str]:
    """The ``value_set`` of an ``expect_column_values_to_be_in_set`` over ``column``: the
    known values that occur in it. The verdict and the unexpected values are the same as
    with every known value (a value of the column is in one set exactly when it is in the
    other), but great-expectations copies its parameters element by element for every
    metric it computes: the 16,000 ARS of the Gemeindeverzeichnis made the validation of
    one Hessen partition 5x slower (8 s against 1.5 s, measured)."""
    return sorted({value for value in known if value is not None} & set(column.drop_nulls()))


# Share of a Land's Kreise and Gemeinden that may answer without any entry before the pull
# counts as incomplete.
EMPTY_ANSWER_LIMIT = 0.25


def _answered_empty(landing: SnapshotLanding, entries: pl.DataFrame) -> set[str]:
    """Own-entry queries that were landed (sealed) but carried no record."""
    queried = {
        group.split("/")[1]
        for group in landing.groups()
        if group.startswith("data/") and group.endswith("/own")
    }
    answered = set(entries.filter(~pl.col("include_above"))["query_ars"].unique().to_list())
    return queried - answered


def build_onlinedienste(settings: Settings, snapshot: date) -> GateResult:
    lake = Lake(settings.data_dir, settings.land)
    leistungen = lake.read("leistungen", snapshot)
    drift = DriftLog("pvog")
    rows = ingest.read_pvog(_raw(settings, "pvog", snapshot), drift=drift)
    result = normalizers.onlinedienste.normalize_onlinedienste(
        rows, snapshot, sample=_sample(settings)
    ).with_unknown_fields("onlinedienste", snapshot, [drift], sample=_sample(settings))
    parameters = {"known_leika": known_among(leistungen["leika_key"], result.table["leika_key"])}
    return _finish(
        lake, run_gate(lake, "onlinedienste", snapshot, result, parameters, land=settings.land)
    )


BUILDERS = {
    "gebiete": build_gebiete,
    "leistungen": build_leistungen,
    "verfuegbarkeit": build_verfuegbarkeit,
    "onlinedienste": build_onlinedienste,
}


# -- incremental builds -------------------------------------------------------------------
RAW_INPUTS = {
    "gebiete": ("destatis_gv100ad",),
    "leistungen": ("fim", "dashboard", "pvog"),
    "verfuegbarkeit": ("dashboard",),
    "onlinedienste": ("pvog",),
}
TABLE_INPUTS = {
    "gebiete": (),
    "leistungen": (),
    "verfuegbarkeit": ("gebiete", "leistungen"),
    "onlinedienste": ("leistungen",),
}
# The code a table is built with, hashed into its fingerprint: the modules every table
# shares (rules, the normaliser skeleton, gate, suites, this module, the lake, the
# contracts), the table's own normaliser (never another table's) with the reference files
# it reads, then the readers of the raw landing and the parser module of each source the
# table reads. The suite JSON is hashed with them (``suite_file``).
SHARED_CODE = (rules, normalize, gate, suites, sys.modules[__name__], lake_module, contracts)
NORMALIZER_CODE = {
    "gebiete": normalizers.gebiete,
    "leistungen": normalizers.leistungen,
    "verfuegbarkeit": normalizers.verfuegbarkeit,
    "onlinedienste": normalizers.onlinedienste,
}
READER_CODE = (ingest, contract)
SOURCE_CODE = {"destatis_gv100ad": destatis, "fim": fim, "dashboard": dashboard, "pvog": pvog}
CODE_FILES = {
    table: (
        *(Path(inspect.getfile(module)) for module in SHARED_CODE),
        Path(inspect.getfile(NORMALIZER_CODE[table])),
        *NORMALIZER_CODE[table].REFERENCE_FILES,
        *(Path(inspect.getfile(module)) for module in READER_CODE),
        *(Path(inspect.getfile(SOURCE_CODE[s])) for s in sources),
    )
    for table, sources in RAW_INPUTS.items()
}
FINGERPRINT = "_fingerprint.json"


def _code_digest(table: str) -> str:
    digest = hashlib.sha256(table.encode())
    for path in (*CODE_FILES[table], suites.suite_file(table)):
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def code_version(table: str) -> str:
    """Identity of the code and the suite ``table`` is built and gated with: its
    ``CODE_FILES`` and ``expectations/<table>.json`` (the asset's Dagster code version;
    the fingerprint hashes the same)."""
    return _code_digest(table)[:16]


def input_fingerprint(settings: Settings, table: str, snapshot: date) -> str:
    """Identity of everything a partition is built from: the raw bodies (sha256 from the
    manifests), the promoted upstream partitions, the code and the suite, the scope."""
    lake = Lake(settings.data_dir, settings.land)
    digest = hashlib.sha256(f"{table}|{settings.mode}|{settings.land}".encode())
    for source in RAW_INPUTS[table]:
        for entry in sorted(_raw(settings, source, snapshot).entries(), key=lambda e: e.name):
            digest.update(entry.sha256.encode())
    for upstream in TABLE_INPUTS[table]:
        digest.update(hashlib.sha256(lake.partition(upstream, snapshot).read_bytes()).digest())
    digest.update(_code_digest(table).encode())
    return digest.hexdigest()


def build(settings: Settings, table: str, snapshot: date, *, force: bool = False) -> GateResult:
    """Build ``table`` for ``snapshot`` unless an identical build is already promoted.
    A promotion a killed run began is finished first, its unfinished attempts dropped."""
    lake = Lake(settings.data_dir, settings.land)
    lake.recover(table, snapshot)
    fingerprint = input_fingerprint(settings, table, snapshot)
    marker = lake.partition(table, snapshot).parent / FINGERPRINT
    stored = lake.validation_path(table, snapshot)
    if (
        not force
        and marker.exists()
        and stored.exists()
        and lake.partition(table, snapshot).exists()
        and json.loads(marker.read_text("utf-8")).get("fingerprint") == fingerprint
    ):
        document = json.loads(stored.read_text("utf-8"))
        return GateResult(
            table=table,
            snapshot=snapshot,
            rows=document["rows"],
            quarantined=document["quarantined"],
            reasons=document["quarantine_reasons"],
            validation=suites.Validation.from_dict(document),
            promoted=True,
            path=str(lake.partition(table, snapshot)),
            fingerprint=fingerprint,
            extra={
                "previous_rows": document.get("previous_rows"),
                "unknown_fields": document.get("unknown_fields", []),
                "ars_not_in_gebietsstand": document.get("ars_not_in_gebietsstand", {}),
                "unchanged": True,
            },
        )
    result = replace(BUILDERS[table](settings, snapshot), fingerprint=fingerprint)
    if result.promoted:
        atomic_write_text(marker, json.dumps({"fingerprint": fingerprint}))
    return result
