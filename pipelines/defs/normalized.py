"""Normalised tables: polars normalisation + great-expectations gate, per Land × snapshot.

Every table is stored and gated per Land (``normalized/<table>/land=<LL>/snapshot=<date>/``),
also the two built from a nationwide source: ``gebiete`` (the whole GV100AD, checked against
the Land's Kreise, Gemeinden and population) and ``leistungen`` (FIM with the Land's Dashboard
and PVOG). They read the nationwide raw partition of their snapshot
(``pipelines/partitions.py``).

Thin glue around ``pipelines.normalisation.tables``. Each asset stages its partition,
validates it, and promotes it only when every blocking (critical) expectation passed
(write-audit-publish).
Each asset carries Dagster's standard metadata: ``dagster/column_schema`` from the table's
contract (``pipelines/quality/contracts.py``, DuckDB types as dbt reads them),
``dagster/row_count`` of the promoted partition, a ``code_version`` hashed from the code
and suite the table is built with (``tables.code_version``) and the partition's input
fingerprint as its data version.
The suite's outcome is reported as two asset checks: ``<table>_gate`` (blocking) and
``<table>_warnings`` (non-blocking). A blocked gate fails the step with a message that
names the expectations and shows failing values; the promoted partition is untouched.
"""

# No `from __future__ import annotations`: Dagster inspects the context annotation.
from collections.abc import Iterator

import dagster as dg
import polars as pl

from pipelines.defs.raw import raw_dashboard, raw_destatis_gv100ad, raw_fim, raw_pvog
from pipelines.normalisation.gate import GateResult
from pipelines.normalisation.tables import build, code_version
from pipelines.partitions import partition_scope, scope_dep, scope_partitions
from pipelines.quality.contracts import CONTRACTS, duckdb_type
from pipelines.resources import OzgSettings

NORMALIZED_GROUP = "normalized"


def _checks(table: str) -> list[dg.AssetCheckSpec]:
    key = dg.AssetKey(["normalized", table])
    return [
        dg.AssetCheckSpec(
            f"{table}_gate",
            asset=key,
            blocking=True,
            description=f"blocking expectations of expectations/{table}.json",
        ),
        dg.AssetCheckSpec(
            f"{table}_warnings",
            asset=key,
            blocking=False,
            description=f"non-blocking expectations of expectations/{table}.json",
        ),
    ]


def column_schema(table: str) -> dg.TableSchema:
    """The table's contract as a Dagster table schema."""
    contract = CONTRACTS[table]
    unique = contract.partition_grain if len(contract.partition_grain) == 1 else ()
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name,
                duckdb_type(dtype),
                constraints=dg.TableColumnConstraints(
                    nullable=name not in contract.non_null, unique=name in unique
                ),
            )
            for name, dtype in contract.schema.items()
        ],
        constraints=dg.TableConstraints(other=["one row per " + " × ".join(contract.grain)]),
    )


def _outcomes(result: GateResult, blocking: bool) -> list[dict[str, object]]:
    return [
        {
            "id": o.id,
            "passed": o.success,
            "observed": o.observed,
            "unexpected_count": o.unexpected_count,
            "sample": o.unexpected_sample,
        }
        for o in result.validation.outcomes
        if o.blocking == blocking
    ]


def _preview(path: str, rows: int = 5) -> str:
    """The first rows of the promoted partition as a Markdown table."""
    frame = pl.read_parquet(path, n_rows=rows)
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * frame.width
    body = [
        "| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in frame.rows()
    ]
    return "\n".join([header, rule, *body])


def _gate_events(table: str, result: GateResult, mode: str, land: str) -> Iterator[object]:
    validation = result.validation
    if validation.passed:
        yield dg.MaterializeResult(
            data_version=dg.DataVersion(result.fingerprint) if result.fingerprint else None,
            metadata={
                "dagster/row_count": dg.MetadataValue.int(result.rows),
                "dagster/column_schema": dg.MetadataValue.table_schema(column_schema(table)),
                "mode": mode,
                "sample": mode == "sample",
                "land": land,
                "rows": dg.MetadataValue.int(result.rows),
                "quarantined": dg.MetadataValue.int(result.quarantined),
                "quarantine_reasons": dg.MetadataValue.json(result.reasons),
                # Additive drift: fields beyond the source contract, recorded, not fatal.
                "unknown_fields": dg.MetadataValue.json(result.extra.get("unknown_fields", [])),
                "ars_not_in_gebietsstand": dg.MetadataValue.json(
                    result.extra.get("ars_not_in_gebietsstand", {})
                ),
                "previous_rows": result.extra.get("previous_rows"),
                "path": dg.MetadataValue.path(result.path),
                "warnings": dg.MetadataValue.int(len(validation.warnings)),
                "unchanged": bool(result.extra.get("unchanged", False)),
                "preview": dg.MetadataValue.md(_preview(result.path)),
            },
        )
    yield dg.AssetCheckResult(
        check_name=f"{table}_gate",
        passed=validation.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "evaluated": len([o for o in validation.outcomes if o.blocking]),
            "failed": dg.MetadataValue.json([o.id for o in validation.blocking_failures]),
            "outcomes": dg.MetadataValue.json(_outcomes(result, blocking=True)),
        },
    )
    yield dg.AssetCheckResult(
        check_name=f"{table}_warnings",
        passed=not validation.warnings,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "failed": dg.MetadataValue.json([o.id for o in validation.warnings]),
            "outcomes": dg.MetadataValue.json(_outcomes(result, blocking=False)),
        },
    )
    if not validation.passed:
        raise dg.Failure(
            description=f"quality gate blocked: {validation.summary()}",
            metadata={"rejected_partition": dg.MetadataValue.path(result.path)},
            allow_retries=False,
        )


def _normalized_asset(table: str, deps: list[object], description: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=table,
        key_prefix=["normalized"],
        group_name=NORMALIZED_GROUP,
        partitions_def=scope_partitions,
        deps=[scope_dep(dep) if isinstance(dep, dg.AssetsDefinition) else dep for dep in deps],
        check_specs=_checks(table),
        kinds={"polars", "parquet"},
        description=description,
        code_version=code_version(table),
        metadata={"dagster/column_schema": dg.MetadataValue.table_schema(column_schema(table))},
        output_required=False,
    )
    def _asset(context: dg.AssetExecutionContext, ozg: OzgSettings):
        land, snapshot = partition_scope(context)
        settings = ozg.settings().for_land(land)
        result = build(settings, table, snapshot, force=ozg.force_refetch)
        context.log.info(result.validation.summary())
        yield from _gate_events(table, result, settings.mode, land)

    return _asset


gebiete = _normalized_asset(
    "gebiete",
    [raw_destatis_gv100ad],
    "Every Gebietskörperschaft of the GV100AD: ARS, AGS, Ebene, Gebietstyp, parent ARS "
    "chain, population, area, PLZ, Gebietsstand.",
)
leistungen = _normalized_asset(
    "leistungen",
    [raw_fim, raw_dashboard, raw_pvog],
    "One row per LeiKa key: names, OZG-ID and name, Themenfeld, Typisierung, source.",
)
verfuegbarkeit = _normalized_asset(
    "verfuegbarkeit",
    [
        raw_dashboard,
        dg.AssetKey(["normalized", "gebiete"]),
        dg.AssetKey(["normalized", "leistungen"]),
    ],
    "Availability entries per query ARS and query scope (own, or also from above): LeiKa key, "
    "providing ARS and its "
    "Ebene, OZG-ID, URL, online status, aktiv, Flächendeckung, Datenstand.",
)
onlinedienste = _normalized_asset(
    "onlinedienste",
    [raw_pvog, dg.AssetKey(["normalized", "leistungen"])],
    "PVOG: Leistung ↔ Onlinedienst with names and links.",
)
