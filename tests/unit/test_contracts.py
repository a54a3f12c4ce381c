"""Contracts once: each normalised table's schema, grain and non-null columns are declared
in ``pipelines/quality/contracts.py`` and everything structural derives from them — the
suites' structural expectations, the dbt sources' columns (a drift test), the Dagster
column schema — and a table's fingerprint hashes only the code it is built with.

Fast: no pipeline run, no great-expectations import.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
import yaml

from pipelines import analysis
from pipelines.analysis import drivers
from pipelines.lake import write_parquet_atomically
from pipelines.normalisation import normalizers, tables
from pipelines.quality import contracts, suites
from pipelines.quality.contracts import CONTRACTS, dbt_source_drift

ROOT = Path(__file__).resolve().parents[2]
STAGING = ROOT / "dbt_project" / "models" / "staging"
SOURCES_YML = STAGING / "_sources.yml"
TABLES = ("gebiete", "leistungen", "verfuegbarkeit", "onlinedienste")


@pytest.fixture(scope="module")
def sources_yml() -> dict[str, Any]:
    return yaml.safe_load(SOURCES_YML.read_text(encoding="utf-8"))


def _table(sources_yml: dict[str, Any], source: str, table: str) -> dict[str, Any]:
    (found,) = [
        t
        for s in sources_yml["sources"]
        if s["name"] == source
        for t in s["tables"]
        if t["name"] == table
    ]
    return found


# -- one declaration -----------------------------------------------------------------------
def test_every_normalised_table_has_one_contract() -> None:
    assert tuple(CONTRACTS) == TABLES == tables.TABLES
    for name, contract in CONTRACTS.items():
        assert contract.name == name
        assert contract.grain[0] == "snapshot"
        assert set(contract.grain) | set(contract.non_null) <= set(contract.columns)
        assert contracts.SCHEMAS[name] is contract.schema
        assert contracts.GRAINS[name] == contract.grain


def test_a_contract_rejects_columns_it_does_not_have() -> None:
    schema = pl.Schema({"snapshot": pl.Date, "a": pl.String})
    with pytest.raises(ValueError, match="not in schema"):
        contracts.TableContract("t", schema, grain=("snapshot", "b"), non_null=())
    with pytest.raises(ValueError, match="not in schema"):
        contracts.TableContract("t", schema, grain=("snapshot",), non_null=("c",))
    with pytest.raises(ValueError, match="starts with snapshot"):
        contracts.TableContract("t", schema, grain=("a",), non_null=())


# -- the suites ------------------------------------------------------------------------------
@pytest.mark.parametrize("table", TABLES)
def test_structural_expectations_are_generated_from_the_contract(table: str) -> None:
    contract = CONTRACTS[table]
    suite = suites.load_suite(table, "06")
    by_id = {e["meta"]["id"]: e for e in suite["expectations"]}
    assert by_id["columns"]["kwargs"]["column_list"] == contract.columns
    for column in contract.columns:
        assert by_id[f"type_{column}"]["kwargs"]["column"] == column
    assert {i.removeprefix("not_null_") for i in by_id if i.startswith("not_null_")} == set(
        contract.non_null
    )
    grain = by_id["unique_grain"]["kwargs"]
    assert grain.get("column_list", [grain.get("column")]) == list(contract.grain[1:])
    # The file holds only the semantic expectations, each with a native severity.
    semantic = json.loads(suites.suite_file(table).read_text(encoding="utf-8"))["expectations"]
    generated = suites.structural_expectations(contract)
    assert [e["meta"]["id"] for e in suite["expectations"]] == [
        *(e["meta"]["id"] for e in generated),
        *(e["meta"]["id"] for e in semantic),
    ]
    for expectation in semantic:
        assert not expectation["meta"]["id"].startswith(("type_", "not_null_"))
        assert expectation["meta"]["id"] not in ("columns", "unique_grain")
        assert expectation["severity"] in (suites.CRITICAL, suites.WARNING)
        assert "blocking" not in expectation["meta"]
    assert all(e["severity"] == suites.CRITICAL for e in generated)


def test_generated_types_are_the_ones_great_expectations_checks() -> None:
    suite = suites.load_suite("onlinedienste", "06")
    types = {
        e["kwargs"]["column"]: e["kwargs"]["type_"]
        for e in suite["expectations"]
        if e["meta"]["id"].startswith("type_")
    }
    assert types["snapshot"] == "date" and types["updatedatum"] == "datetime"
    assert types["line_number"] == "int" and types["sample"] == "bool"
    assert types["id_lb"] == "str"
    leistungen = {e["meta"]["id"]: e for e in suites.load_suite("leistungen")["expectations"]}
    # One grain column: the single-column expectation, as the report has always named it.
    assert leistungen["unique_grain"]["type"] == "expect_column_values_to_be_unique"
    assert leistungen["unique_grain"]["meta"]["description"] == "one row per leika_key"


def _suite_dir(tmp_path: Path, table: str, expectation: dict[str, Any]) -> Path:
    folder = tmp_path / "expectations"
    folder.mkdir()
    (folder / f"{table}.json").write_text(
        json.dumps({"name": table, "expectations": [expectation]}), encoding="utf-8"
    )
    return folder


@pytest.mark.parametrize(
    ("expectation", "message"),
    [
        (
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "ars"},
                "meta": {"id": "not_null_ars", "description": "x"},
                "severity": "critical",
            },
            "generated from the table's contract",
        ),
        (
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "plz"},
                "meta": {"id": "plz_present", "description": "x", "blocking": True},
            },
            "needs a severity",
        ),
        (
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "plz"},
                "meta": {"id": "plz_present", "description": "x", "blocking": False},
                "severity": "warning",
            },
            "replaced by severity",
        ),
    ],
)
def test_a_suite_file_declares_only_semantic_expectations_with_a_severity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expectation: dict[str, Any], message: str
) -> None:
    monkeypatch.setattr(suites, "EXPECTATIONS_DIR", _suite_dir(tmp_path, "gebiete", expectation))
    with pytest.raises(ValueError, match=message):
        suites.load_suite("gebiete")


def test_outcome_blocking_is_severity_critical() -> None:
    base = {"id": "x", "type": "t", "column": None, "success": False, "description": ""}
    critical = suites.Outcome(**base, severity="critical")
    warning = suites.Outcome(**base, severity="warning")
    validation = suites.Validation("gebiete", "2026-02-01", 0, [critical, warning])
    assert critical.blocking and not warning.blocking
    assert validation.blocking_failures == [critical] and validation.warnings == [warning]
    stored = json.loads(json.dumps(validation.to_dict()))
    assert [o["severity"] for o in stored["outcomes"]] == ["critical", "warning"]
    assert suites.Validation.from_dict(stored) == validation


# -- the dbt sources -------------------------------------------------------------------------
def test_the_dbt_sources_declare_the_contracts(sources_yml: dict[str, Any]) -> None:
    assert dbt_source_drift(sources_yml) == []


def _mutated(sources_yml: dict[str, Any], source: str, table: str) -> tuple[dict, list]:
    mutated = copy.deepcopy(sources_yml)
    return mutated, _table(mutated, source, table)["columns"]


def _drop(columns: list[dict[str, Any]]) -> None:
    columns[:] = [c for c in columns if c["name"] != "ozg_id"]


def _retype(columns: list[dict[str, Any]]) -> None:
    next(c for c in columns if c["name"] == "record_index")["data_type"] = "BIGINT"


def _swap(columns: list[dict[str, Any]]) -> None:
    columns[1], columns[2] = columns[2], columns[1]


def _add(columns: list[dict[str, Any]]) -> None:
    columns.append({"name": "perspective", "data_type": "VARCHAR"})


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_drop, "normalized.verfuegbarkeit: column ozg_id is not declared in dbt"),
        (_retype, "normalized.verfuegbarkeit: column record_index is BIGINT in dbt, not INTEGER"),
        (_swap, "normalized.verfuegbarkeit: columns out of order"),
        (_add, "normalized.verfuegbarkeit: column perspective is not in the Python contract"),
    ],
)
def test_drift_in_the_dbt_sources_is_named(
    sources_yml: dict[str, Any], mutate: Any, expected: str
) -> None:
    mutated, columns = _mutated(sources_yml, "normalized", "verfuegbarkeit")
    mutate(columns)
    drift = dbt_source_drift(mutated)
    assert drift and all(p.startswith("normalized.verfuegbarkeit:") for p in drift), drift
    assert any(p.startswith(expected) for p in drift), drift


def test_drift_in_the_python_contract_is_named(
    sources_yml: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    gebiete = CONTRACTS["gebiete"]
    widened = pl.Schema({**gebiete.schema, "bevoelkerung": pl.Int32, "neu": pl.String})
    monkeypatch.setitem(CONTRACTS, "gebiete", dataclasses.replace(gebiete, schema=widened))
    assert sorted(dbt_source_drift(sources_yml)) == [
        "normalized.gebiete: column bevoelkerung is BIGINT in dbt, not INTEGER",
        "normalized.gebiete: column neu is not declared in dbt",
    ]
    quarantine = pl.Schema({**contracts.QUARANTINE_SCHEMA, "record": pl.Int64})
    monkeypatch.setitem(contracts.COMPANIONS, "quarantine", quarantine)
    assert {p.split(":")[0] for p in dbt_source_drift(sources_yml)} >= {
        f"quarantine.{t}" for t in TABLES
    }


def test_a_missing_source_table_is_drift(sources_yml: dict[str, Any]) -> None:
    mutated = copy.deepcopy(sources_yml)
    for source in mutated["sources"]:
        if source["name"] == "quality":
            source["tables"] = [t for t in source["tables"] if t["name"] != "onlinedienste"]
    assert dbt_source_drift(mutated) == ["quality.onlinedienste: no dbt source table"]


def _location(table: dict[str, Any], data_dir: Path) -> str:
    location = table["meta"]["external_location"]
    location = location.replace("{{ env_var('OZG_DATA_DIR_ABS', 'data') }}", str(data_dir))
    return location.replace("${name}", table["name"])


def test_duckdb_reads_the_declared_types(sources_yml: dict[str, Any], tmp_path: Path) -> None:
    """The declared DuckDB types are what DuckDB reads from a Parquet file polars writes
    with the contract's schema (the type mapping itself is under test)."""
    key = Path("land=06") / "snapshot=2026-02-01" / "data.parquet"
    snapshot = {"snapshot": [date(2026, 2, 1)]}
    for name, contract in CONTRACTS.items():
        frame = pl.DataFrame(snapshot, schema={"snapshot": pl.Date}).select(
            pl.col("snapshot") if column == "snapshot" else pl.lit(None, dtype).alias(column)
            for column, dtype in contract.schema.items()
        )
        write_parquet_atomically(frame, tmp_path / "normalized" / name / key)
        for folder, schema in (
            ("quarantine", contracts.QUARANTINE_SCHEMA),
            ("quality/unknown_fields", contracts.UNKNOWN_FIELDS_SCHEMA),
        ):
            write_parquet_atomically(schema.to_frame(), tmp_path / folder / name / key)
    # The roll-out driver analysis writes its outputs with these schemas (empty or not).
    analysis.write_results(drivers.empty_results(), analysis.analysis_dir(tmp_path))
    with duckdb.connect() as connection:
        for source in sources_yml["sources"]:
            for table in source["tables"]:
                location = _location(table, tmp_path)
                described = connection.execute(f"describe select * from {location}").fetchall()
                declared = [(c["name"], c["data_type"]) for c in table["columns"]]
                assert [(r[0], r[1]) for r in described] == declared, table["name"]


def test_each_normalised_table_has_its_own_quarantine_lineage(
    sources_yml: dict[str, Any],
) -> None:
    for source, folder in (("quarantine", "quarantine"), ("quality", "quality/unknown_fields")):
        for name in TABLES:
            table = _table(sources_yml, source, name)
            assert table["meta"]["dagster"]["asset_key"] == ["normalized", name]
            assert f"/{folder}/{name}/land=*/snapshot=*/data.parquet" in _location(
                table, Path("/data")
            )
    for model, source in (("stg_quarantaene", "quarantine"), ("stg_unbekannte_felder", "quality")):
        sql = (STAGING / f"{model}.sql").read_text(encoding="utf-8")
        (names,) = re.findall(r"{% for tabelle in (\[.*?\]) %}", sql)
        assert sorted(yaml.safe_load(names)) == sorted(TABLES), model
        assert f"source('{source}', tabelle)" in sql


# -- fingerprints ------------------------------------------------------------------------------
def test_each_table_hashes_its_own_normaliser_only() -> None:
    own = {t: Path(getattr(normalizers, t).__file__) for t in TABLES}
    for table, files in tables.CODE_FILES.items():
        assert own[table] in files
        assert not {own[t] for t in TABLES if t != table} & set(files), table
    assert Path(contracts.__file__) in tables.CODE_FILES["gebiete"]
    assert normalizers.gebiete.SONDERSTATUS_CSV in tables.CODE_FILES["gebiete"]


def test_a_comment_in_another_tables_normaliser_keeps_the_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The code part of the fingerprint (``code_version``) on copies of the code files."""
    copies: dict[Path, Path] = {}
    for files in tables.CODE_FILES.values():
        for path in files:
            if path not in copies:
                copies[path] = tmp_path / f"{len(copies)}_{path.name}"
                shutil.copyfile(path, copies[path])
    monkeypatch.setattr(
        tables,
        "CODE_FILES",
        {t: tuple(copies[p] for p in files) for t, files in tables.CODE_FILES.items()},
    )
    before = {t: tables.code_version(t) for t in TABLES}
    assert before == {t: tables.code_version(t) for t in TABLES}  # deterministic
    leistungen = copies[Path(normalizers.leistungen.__file__)]
    leistungen.write_text(leistungen.read_text("utf-8") + "# a comment\n", encoding="utf-8")
    after = {t: tables.code_version(t) for t in TABLES}
    assert after["leistungen"] != before["leistungen"]
    assert {t: v for t, v in after.items() if t != "leistungen"} == {
        t: v for t, v in before.items() if t != "leistungen"
    }
    # The shared skeleton is part of every table's code.
    skeleton = copies[Path(tables.normalize.__file__)]
    skeleton.write_text(skeleton.read_text("utf-8") + "# a comment\n", encoding="utf-8")
    assert all(tables.code_version(t) != after[t] for t in TABLES)


# -- Dagster ---------------------------------------------------------------------------------
def test_the_normalised_assets_carry_the_contract_and_the_code_version() -> None:
    import dagster as dg

    from pipelines.definitions import build_definitions
    from pipelines.defs.normalized import column_schema
    from sources.config import Settings

    normalised = [
        asset
        for asset in build_definitions(Settings()).assets or []
        if isinstance(asset, dg.AssetsDefinition)
        and all(key.path[0] == "normalized" for key in asset.keys)
    ]
    assert len(normalised) == len(CONTRACTS)
    for asset in normalised:
        (key,) = asset.keys
        table = key.path[-1]
        contract = CONTRACTS[table]
        assert asset.code_versions_by_key[key] == tables.code_version(table)
        declared = asset.specs_by_key[key].metadata["dagster/column_schema"]
        assert declared == dg.MetadataValue.table_schema(column_schema(table))
        schema = declared.schema
        assert [c.name for c in schema.columns] == contract.columns
        types = {c.name: c.type for c in schema.columns}
        assert types == {n: contracts.duckdb_type(t) for n, t in contract.schema.items()}
        not_null = {c.name for c in schema.columns if not c.constraints.nullable}
        assert not_null == set(contract.non_null)


def test_a_promoted_partition_reports_row_count_schema_and_data_version(tmp_path: Path) -> None:
    import dagster as dg

    from pipelines.defs.normalized import _gate_events, column_schema
    from pipelines.normalisation.gate import GateResult

    path = tmp_path / "data.parquet"
    contract = CONTRACTS["leistungen"]
    write_parquet_atomically(contract.schema.to_frame(), path)
    outcome = suites.Outcome("columns", "t", None, "critical", True, "")
    result = GateResult(
        table="leistungen",
        snapshot=date(2026, 2, 1),
        rows=0,
        quarantined=0,
        reasons={},
        validation=suites.Validation("leistungen", "2026-02-01", 0, [outcome]),
        promoted=True,
        path=str(path),
        fingerprint="f" * 64,
    )
    events = list(_gate_events("leistungen", result, "sample", "06"))
    (materialized,) = [e for e in events if isinstance(e, dg.MaterializeResult)]
    assert materialized.data_version == dg.DataVersion("f" * 64)
    metadata = materialized.metadata or {}
    assert metadata["dagster/row_count"] == dg.MetadataValue.int(0)
    assert metadata["dagster/column_schema"] == dg.MetadataValue.table_schema(
        column_schema("leistungen")
    )
    assert {"rows", "unknown_fields", "ars_not_in_gebietsstand"} <= set(metadata)
