"""The contract of each normalised table, declared once: columns with their polars types
(in order), the grain and the columns that are never null.

Everything structural about a table derives from its :class:`TableContract`:

* the normaliser selects and casts its rows to ``schema`` and deduplicates on ``grain``
  (``pipelines/normalisation/normalize.py``);
* the structural expectations of its great-expectations suite (columns in order, the type
  of every column, the non-null columns, one row per grain) are generated from it
  (``pipelines/quality/suites.py``); ``expectations/<table>.json`` keeps the semantic ones;
* the dbt source ``normalized.<table>`` declares the same columns with their DuckDB types
  (``dbt_project/models/staging/_sources.yml``); :func:`dbt_source_drift` names every
  disagreement and ``tests/unit/test_contracts.py`` fails on one;
* the Dagster asset ``normalized/<table>`` carries it as ``dagster/column_schema``.

The companions written with every partition (its quarantine and its unknown fields) have
one schema for all tables, declared here as well. The module sits in ``quality`` (what a
partition must satisfy), the layer below the normalisation that fills it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from sources import contract


@dataclass(frozen=True)
class TableContract:
    name: str
    schema: pl.Schema
    grain: tuple[str, ...]  # one row per these values in the lake (snapshot first)
    non_null: tuple[str, ...]  # never null in a promoted partition (in suite order)

    def __post_init__(self) -> None:
        unknown = [c for c in (*self.grain, *self.non_null) if c not in self.schema]
        if unknown:
            raise ValueError(f"{self.name}: grain or non-null columns not in schema: {unknown}")
        if self.grain[0] != "snapshot":
            raise ValueError(f"{self.name}: the grain starts with snapshot")

    @property
    def columns(self) -> list[str]:
        return self.schema.names()

    @property
    def partition_grain(self) -> tuple[str, ...]:
        """The grain within one partition (a partition holds one snapshot)."""
        return self.grain[1:]


GEBIETE = TableContract(
    "gebiete",
    pl.Schema(
        {
            "snapshot": pl.Date,
            "ars": pl.String,
            "ags": pl.String,
            "name": pl.String,
            "ebene": pl.String,
            "gebietstyp": pl.String,
            "textkennzeichen": pl.String,
            "verband_ars": pl.String,
            "kreis_ars": pl.String,
            "regierungsbezirk_ars": pl.String,
            "land_ars": pl.String,
            "land": pl.String,
            "bevoelkerung": pl.Int64,
            "flaeche_ha": pl.Int64,
            "plz": pl.String,
            "gebietsstand": pl.Date,
            "source": pl.String,
            "raw_sha256": pl.String,
            "sample": pl.Boolean,
        }
    ),
    grain=("snapshot", "ars", "ebene"),
    non_null=("ars", "ebene", "gebietstyp", "name", "land_ars", "gebietsstand", "raw_sha256"),
)
LEISTUNGEN = TableContract(
    "leistungen",
    pl.Schema(
        {
            "snapshot": pl.Date,
            "leika_key": pl.String,
            "leika_name": pl.String,
            "leika_bezeichnung": pl.String,
            "ozg_id": pl.String,
            "ozg_bezeichnung": pl.String,
            "themenfeld": pl.String,
            "typisierung": pl.String,
            "leistungsadressat": pl.String,
            "in_fim": pl.Boolean,
            "in_dashboard": pl.Boolean,
            "in_pvog": pl.Boolean,
            "source": pl.String,
            "raw_sha256": pl.String,
            "sample": pl.Boolean,
        }
    ),
    grain=("snapshot", "leika_key"),
    non_null=("leika_key", "leika_name", "source", "sample"),
)
VERFUEGBARKEIT = TableContract(
    "verfuegbarkeit",
    pl.Schema(
        {
            "snapshot": pl.Date,
            "query_ars": pl.String,
            "query_scope": pl.String,
            "leika_key": pl.String,
            "leika_name": pl.String,
            "ars": pl.String,
            "ars_name": pl.String,
            "anbieter_ebene": pl.String,
            "ozg_id": pl.String,
            "ozg_bezeichnung": pl.String,
            "url": pl.String,
            "online_status": pl.String,
            "aktiv": pl.Boolean,
            "art_flaechendeckung": pl.String,
            "begruendung_nicht_beruecksichtigt": pl.String,
            "datenstand": pl.Date,
            "source": pl.String,
            "raw_file": pl.String,
            "raw_sha256": pl.String,
            "record_index": pl.Int32,
            "sample": pl.Boolean,
        }
    ),
    grain=("snapshot", "query_ars", "query_scope", "leika_key", "ars", "url"),
    non_null=(
        "query_ars",
        "query_scope",
        "leika_key",
        "ars",
        "anbieter_ebene",
        "online_status",
        "art_flaechendeckung",
        "raw_sha256",
    ),
)
ONLINEDIENSTE = TableContract(
    "onlinedienste",
    pl.Schema(
        {
            "snapshot": pl.Date,
            "query_ars": pl.String,
            "id_lb": pl.String,
            "leika_key": pl.String,
            "leistung_name": pl.String,
            "leistung_name2": pl.String,
            "updatedatum": pl.Datetime("us"),
            "id_od": pl.String,
            "onlinedienst_name": pl.String,
            "link": pl.String,
            "source": pl.String,
            "raw_file": pl.String,
            "raw_sha256": pl.String,
            "line_number": pl.Int64,
            "sample": pl.Boolean,
        }
    ),
    grain=("snapshot", "query_ars", "id_lb", "id_od"),
    non_null=("query_ars", "id_lb", "leika_key", "raw_sha256"),
)

CONTRACTS: dict[str, TableContract] = {
    c.name: c for c in (GEBIETE, LEISTUNGEN, VERFUEGBARKEIT, ONLINEDIENSTE)
}
SCHEMAS: dict[str, pl.Schema] = {name: c.schema for name, c in CONTRACTS.items()}
GRAINS: dict[str, tuple[str, ...]] = {name: c.grain for name, c in CONTRACTS.items()}
GEBIETE_SCHEMA = GEBIETE.schema
LEISTUNGEN_SCHEMA = LEISTUNGEN.schema
VERFUEGBARKEIT_SCHEMA = VERFUEGBARKEIT.schema
ONLINEDIENSTE_SCHEMA = ONLINEDIENSTE.schema

# The companions of every partition (data/quarantine/..., data/quality/unknown_fields/...).
QUARANTINE_SCHEMA = pl.Schema(
    {
        "table": pl.String,
        "snapshot": pl.Date,
        "reason_code": pl.String,
        "message": pl.String,
        "source": pl.String,
        "raw_file": pl.String,
        "raw_sha256": pl.String,
        "record_ref": pl.String,
        "record": pl.String,
        "sample": pl.Boolean,
    }
)
UNKNOWN_FIELDS_SCHEMA = pl.Schema(
    {
        "table": pl.String,
        "snapshot": pl.Date,
        **contract.UNKNOWN_FIELDS_SCHEMA,
        "sample": pl.Boolean,
    }
)
# dbt source → the schema of every one of its tables' Parquet files.
COMPANIONS: dict[str, pl.Schema] = {
    "quarantine": QUARANTINE_SCHEMA,
    "quality": UNKNOWN_FIELDS_SCHEMA,
}


# -- DuckDB (how dbt reads the Parquet files polars writes) ------------------------------
_DUCKDB_TYPES: dict[type[pl.DataType], str] = {
    pl.String: "VARCHAR",
    pl.Date: "DATE",
    pl.Boolean: "BOOLEAN",
    pl.Int8: "TINYINT",
    pl.Int16: "SMALLINT",
    pl.Int32: "INTEGER",
    pl.Int64: "BIGINT",
    pl.Float32: "FLOAT",
    pl.Float64: "DOUBLE",
}


def duckdb_type(dtype: pl.DataType) -> str:
    """The DuckDB type of a Parquet column polars wrote with ``dtype``."""
    if isinstance(dtype, pl.Datetime):
        # polars writes naive timestamps (isAdjustedToUTC = false); with a zone, UTC ones.
        return "TIMESTAMP" if dtype.time_zone is None else "TIMESTAMP WITH TIME ZONE"
    try:
        return _DUCKDB_TYPES[dtype.base_type()]
    except KeyError:
        raise ValueError(f"no DuckDB type declared for polars {dtype}") from None


def duckdb_columns(schema: pl.Schema) -> list[tuple[str, str]]:
    return [(name, duckdb_type(dtype)) for name, dtype in schema.items()]


# Columns read_parquet adds to the file's own: the hive key land (hive_partitioning = true;
# the hive key snapshot is a column of every file already) or the file name (filename = true).
def _added_columns(external_location: str) -> list[tuple[str, str]]:
    added = []
    if "hive_partitioning = true" in external_location:
        added.append(("land", "VARCHAR"))
    if "filename = true" in external_location:
        added.append(("filename", "VARCHAR"))
    return added


def dbt_source_drift(sources_yml: Mapping[str, Any]) -> list[str]:
    """Every disagreement between the contracts and the dbt sources (``_sources.yml`` as
    parsed YAML): a table missing, a column missing, extra, out of order or of another
    type. Empty when they agree."""
    expected: dict[tuple[str, str], pl.Schema] = {
        ("normalized", name): c.schema for name, c in CONTRACTS.items()
    }
    for source, schema in COMPANIONS.items():
        expected |= {(source, name): schema for name in CONTRACTS}
    declared = {
        (source["name"], table["name"]): table
        for source in sources_yml.get("sources", [])
        for table in source.get("tables", [])
    }
    problems = []
    for key in sorted(set(expected) - set(declared)):
        problems.append(f"{'.'.join(key)}: no dbt source table")
    for key, schema in expected.items():
        table = declared.get(key)
        if table is None:
            continue
        location = str((table.get("meta") or {}).get("external_location", ""))
        want = [*duckdb_columns(schema), *_added_columns(location)]
        have = [
            (str(c.get("name")), str(c.get("data_type", "")).upper())
            for c in table.get("columns") or []
        ]
        name = ".".join(key)
        want_names, have_names = [n for n, _ in want], [n for n, _ in have]
        for column in want_names:
            if column not in have_names:
                problems.append(f"{name}: column {column} is not declared in dbt")
        for column in have_names:
            if column not in want_names:
                problems.append(f"{name}: column {column} is not in the Python contract")
        common = [n for n in want_names if n in have_names]
        if [n for n in have_names if n in want_names] != common:
            problems.append(f"{name}: columns out of order, expected {common}")
        types = dict(have)
        for column, dtype in want:
            if column in types and types[column] != dtype:
                problems.append(f"{name}: column {column} is {types[column]} in dbt, not {dtype}")
    return problems
