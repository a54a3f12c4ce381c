"""The dbt project's layout for editing, checked on the parsed manifest (no build): one YAML
next to each model with its unit tests, shared column descriptions as doc blocks, and
exposures whose lineage matches the code that reads the marts; and the static docs page."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from pipelines.warehouse import (
    DBT_PROJECT_DIR,
    dbt_docs_path,
    ensure_manifest,
    generate_dbt_docs,
    warehouse_path,
)

ROOT = Path(__file__).resolve().parents[2]
MODELS = DBT_PROJECT_DIR / "models"
# The code outside dbt that reads marts (the reports from the published copy, the roll-out
# driver analysis from the warehouse).
READERS = sorted(
    [
        *ROOT.glob("pipelines/reports/*.py"),
        *ROOT.glob("pipelines/publication/*.py"),
        *ROOT.glob("pipelines/analysis/*.py"),
    ]
)
# Readers that name no mart read every one: by the manifest's schema or the warehouse's.
EVERY_MART = re.compile(r"mart_definitions\(|table_schema = 'marts'")


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return json.loads(ensure_manifest(force=True).read_text(encoding="utf-8"))


def marts_of(manifest: dict[str, Any]) -> set[str]:
    return {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["config"].get("schema") == "marts"
    }


def named_marts(path: Path, marts: set[str]) -> set[str]:
    return set(re.findall(r"\bmart_[a-z_]+\b", path.read_text(encoding="utf-8"))) & marts


def test_every_model_is_documented_in_the_yaml_next_to_it(manifest: dict[str, Any]) -> None:
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    marts = [n for n in models if n["config"].get("schema") == "marts"]
    assert len(marts) >= 14
    for node in models:
        if node["patch_path"] is None:  # intermediate models without documentation
            assert node["config"].get("schema") == "intermediate", node["name"]
            continue
        sql = Path(node["original_file_path"])
        assert node["patch_path"] == f"ozg://{sql.with_suffix('.yml')}", node["name"]
    assert [p.name for p in MODELS.rglob("_*.yml")] == ["_sources.yml"]  # no family files


def test_each_unit_test_sits_next_to_its_model(manifest: dict[str, Any]) -> None:
    tests = list(manifest["unit_tests"].values())
    assert len(tests) >= 14
    for test in tests:
        assert Path(test["original_file_path"]).stem == test["model"], test["name"]


def test_a_column_description_used_twice_is_a_doc_block() -> None:
    """Inline texts are unique across the model YAML; every doc block is used."""
    inline: Counter[str] = Counter()
    text = ""
    for path in sorted(MODELS.rglob("*.yml")):
        text += path.read_text(encoding="utf-8")
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            for column in model.get("columns", []):
                if "{{" not in column.get("description", "{{"):
                    inline[column["description"]] += 1
    assert [d for d, n in inline.items() if n > 1] == []
    blocks = re.findall(r"{%\s*docs\s+(\w+)\s*%}", (MODELS / "docs" / "columns.md").read_text())
    assert len(blocks) > 40
    assert [b for b in blocks if f'doc("{b}")' not in text] == []


def test_doc_blocks_render_into_the_manifest(manifest: dict[str, Any]) -> None:
    column = manifest["nodes"]["model.ozg.mart_peer_vergleich"]["columns"]["snapshot_date"]
    assert column["description"] == "Stichtag des monatlichen Abzugs (erster Tag des Monats)."
    assert column["meta"] == {"begriff_en": "snapshot date", "einheit": "Datum"}


def test_exposures_depend_on_the_marts_their_code_reads(manifest: dict[str, Any]) -> None:
    marts = marts_of(manifest)
    exposures = manifest["exposures"].values()
    assert len(exposures) >= 7
    for exposure in exposures:
        modules = [ROOT / m for m in exposure["config"]["meta"]["quellcode"]]
        read: set[str] = set()
        for module in modules:
            named = named_marts(module, marts)
            if not named:
                assert EVERY_MART.search(module.read_text(encoding="utf-8")), module
                named = marts
            read |= named
        declared = {node.removeprefix("model.ozg.") for node in exposure["depends_on"]["nodes"]}
        assert declared == read, exposure["name"]
        assert exposure["owner"]["name"] and exposure["type"] in {
            "dashboard",
            "analysis",
            "application",
        }


def test_every_mart_reader_is_an_exposure(manifest: dict[str, Any]) -> None:
    marts = marts_of(manifest)
    listed = {
        ROOT / module
        for exposure in manifest["exposures"].values()
        for module in exposure["config"]["meta"]["quellcode"]
    }
    readers = {
        path
        for path in READERS
        if named_marts(path, marts) or EVERY_MART.search(path.read_text(encoding="utf-8"))
    }
    missing = sorted(str(p.relative_to(ROOT)) for p in readers - listed)
    assert missing == [], "give them an exposure in dbt_project/models/exposures.yml"
    assert listed - set(READERS) == set()


@pytest.mark.slow  # a dbt invocation against a warehouse (dbt docs generate), ~15 s
def test_dbt_docs_page_embeds_the_project_and_the_warehouse_catalog(tmp_path: Path) -> None:
    """``dbt docs generate --static`` needs no build: a small warehouse gives a catalog."""
    warehouse = warehouse_path(tmp_path)
    warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.mart_pilotvergleich (ars varchar, land_median double)")
    page = generate_dbt_docs(tmp_path)
    assert page == dbt_docs_path(tmp_path)
    assert [p.name for p in page.parent.iterdir()] == ["index.html"]  # no temporary file left
    html = page.read_text(encoding="utf-8")
    assert "exposure.ozg.steckbriefe" in html  # the project (manifest) …
    assert '"land_median": {"type": "DOUBLE"' in html  # … and the warehouse catalog


def test_the_parse_key_follows_the_project_files_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ensure_manifest skips a forced parse while the key is unchanged: the key must change
    with every project file and the environment, not with build output."""
    from pipelines import warehouse

    project = tmp_path / "dbt_project"
    (project / "models").mkdir(parents=True)
    (project / "models" / "m.sql").write_text("select 1", "utf-8")
    monkeypatch.setattr(warehouse, "DBT_PROJECT_DIR", project)
    environment = {"OZG_DATA_DIR_ABS": "/a"}
    key = warehouse._parse_key(environment)
    for output in ("target/manifest.json", "logs/dbt.log", "target/ozg_dbt-1/run.json"):
        (project / output).parent.mkdir(parents=True, exist_ok=True)
        (project / output).write_text("{}", "utf-8")
    assert warehouse._parse_key(environment) == key
    assert warehouse._parse_key({"OZG_DATA_DIR_ABS": "/b"}) != key
    (project / "models" / "m.sql").write_text("select 2", "utf-8")
    assert warehouse._parse_key(environment) != key


def test_each_data_directory_keeps_its_own_partial_parse_state(tmp_path: Path) -> None:
    """dbt drops its partial-parse state when the profile (the warehouse path) changes: a
    data directory's builds start from its own state, and from the shared one only before
    its first build."""
    from pipelines import warehouse

    ensure_manifest()
    shared = (DBT_PROJECT_DIR / "target" / warehouse.PARTIAL_PARSE).read_bytes()
    first, later = tmp_path / "first", tmp_path / "later"
    warehouse.seed_parse_state(first, tmp_path / "data")
    assert (first / warehouse.PARTIAL_PARSE).read_bytes() == shared
    (first / warehouse.PARTIAL_PARSE).write_bytes(b"state after the first build")
    (first / "manifest.json").write_text('{"nodes": {}}', "utf-8")
    warehouse.keep_parse_state(first, tmp_path / "data", build="ozg_dbt")
    warehouse.seed_parse_state(later, tmp_path / "data")
    assert (later / warehouse.PARTIAL_PARSE).read_bytes() == b"state after the first build"
    kept = warehouse.parse_state_path(tmp_path / "data").parent
    assert sorted(p.name for p in kept.iterdir()) == [
        "manifest-ozg_dbt.json",
        "partial_parse.msgpack",
    ]


def test_the_docs_manifest_is_the_builds_manifest_with_every_compiled_node(
    tmp_path: Path,
) -> None:
    from pipelines import warehouse

    kept = warehouse.parse_state_path(tmp_path).parent
    kept.mkdir(parents=True)
    assert warehouse.built_manifest(tmp_path) is None  # no build yet: dbt compiles itself

    def node(compiled: bool, sql: str) -> dict[str, Any]:
        return {"compiled": compiled, "compiled_code": sql if compiled else None}

    main = {"metadata": {"build": "main"}, "nodes": {"a": node(True, "A"), "b": node(False, "")}}
    analyse = {"metadata": {}, "nodes": {"a": node(True, "A'"), "b": node(True, "B")}}
    (kept / "manifest-ozg_dbt.json").write_text(json.dumps(main), "utf-8")
    (kept / "manifest-ozg_dbt_analyse.json").write_text(json.dumps(analyse), "utf-8")
    merged = warehouse.built_manifest(tmp_path)
    assert merged == {
        "metadata": {"build": "main"},
        "nodes": {"a": node(True, "A"), "b": node(True, "B")},
    }
