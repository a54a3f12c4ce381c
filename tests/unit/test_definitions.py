"""The Dagster code location: it loads, and the raw → normalised graph has the expected shape."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest

from pipelines.partitions import land_partitions, scope_partitions, snapshot_partitions

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAGSTER = Path(sys.executable).parent / "dagster"

RAW_KEYS = {dg.AssetKey(["raw", name]) for name in ("destatis_gv100ad", "dashboard", "pvog", "fim")}
NORMALIZED_TABLES = ("gebiete", "leistungen", "verfuegbarkeit", "onlinedienste")
NORMALIZED_KEYS = {dg.AssetKey(["normalized", table]) for table in NORMALIZED_TABLES}

# asset -> its direct upstream assets (the whole partitioned part of the graph)
EXPECTED_PARENTS: dict[str, set[str]] = {
    "raw/destatis_gv100ad": set(),
    "raw/dashboard": {"raw/destatis_gv100ad"},
    "raw/pvog": set(),
    "raw/fim": set(),
    "normalized/gebiete": {"raw/destatis_gv100ad"},
    "normalized/leistungen": {"raw/fim", "raw/dashboard", "raw/pvog"},
    "normalized/verfuegbarkeit": {"raw/dashboard", "normalized/gebiete", "normalized/leistungen"},
    "normalized/onlinedienste": {"raw/pvog", "normalized/leistungen"},
}


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OZG_") and k != "DAGSTER_HOME"}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("definitions-data")


@pytest.fixture(scope="module")
def loaded_defs(data_dir: Path) -> Iterator[dg.Definitions]:
    """``defs()`` exactly as the workspace loads it, with the environment of a temp data dir."""
    from pipelines.definitions import defs

    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("OZG_"):
                patch.delenv(name)
        patch.setenv("OZG_DATA_DIR", str(data_dir))
        patch.setenv("OZG_MODE", "sample")
        loaded = defs()
        assert isinstance(loaded, dg.Definitions)
        yield loaded


@pytest.fixture(scope="module")
def graph(loaded_defs: dg.Definitions):  # type: ignore[no-untyped-def]
    return loaded_defs.resolve_asset_graph()


def test_defs_reads_the_environment_into_the_ozg_resource(
    loaded_defs: dg.Definitions, data_dir: Path
) -> None:
    ozg = loaded_defs.resources["ozg"]
    assert ozg.data_dir == str(data_dir)
    assert (ozg.mode, ozg.lands, ozg.force_refetch) == ("sample", "06", False)
    settings = ozg.settings()
    assert settings.raw_dir == data_dir / "raw"
    assert "dbt" in loaded_defs.resources


def test_raw_and_normalized_asset_keys_are_exactly_the_expected_ones(graph) -> None:  # type: ignore[no-untyped-def]
    keys = set(graph.get_all_asset_keys())
    partitioned_layers = {k for k in keys if k.path[0] in ("raw", "normalized")}
    assert partitioned_layers == RAW_KEYS | NORMALIZED_KEYS
    assert {k.to_user_string() for k in RAW_KEYS | NORMALIZED_KEYS} == set(EXPECTED_PARENTS)
    for key in RAW_KEYS:
        assert graph.get(key).group_name == "raw"
    for key in NORMALIZED_KEYS:
        assert graph.get(key).group_name == "normalized"


def test_raw_and_normalized_assets_are_partitioned_by_land_and_monthly_snapshot(graph) -> None:  # type: ignore[no-untyped-def]
    for key in RAW_KEYS | NORMALIZED_KEYS:
        partitions = graph.get(key).partitions_def
        assert partitions == scope_partitions, key
    assert isinstance(scope_partitions, dg.MultiPartitionsDefinition)
    dimensions = {d.name: d.partitions_def for d in scope_partitions.partitions_defs}
    assert dimensions == {"land": land_partitions, "snapshot": snapshot_partitions}
    lands = land_partitions.get_partition_keys()
    assert lands == [f"{n:02d}" for n in range(1, 17)]
    # A multi-partition key names both dimensions; Dagster orders them by name.
    key = dg.MultiPartitionKey({"land": "06", "snapshot": "2026-01-01"})
    assert str(key) == "06|2026-01-01"
    assert scope_partitions.has_partition_key(key)
    assert isinstance(snapshot_partitions, dg.MonthlyPartitionsDefinition)
    keys = snapshot_partitions.get_partition_keys()
    assert keys[0] == "2025-12-01"
    assert keys[:3] == ["2025-12-01", "2026-01-01", "2026-02-01"]
    assert all(date.fromisoformat(k).day == 1 for k in keys)
    # end_offset=1: the running month is already a partition (a live pull lands there).
    assert keys[-1] == datetime.now(UTC).date().replace(day=1).isoformat()
    assert len(keys) == len(set(keys))


def test_dependency_edges(graph) -> None:  # type: ignore[no-untyped-def]
    for key_string, parents in EXPECTED_PARENTS.items():
        node = graph.get(dg.AssetKey.from_user_string(key_string))
        assert {p.to_user_string() for p in node.parent_keys} == parents, key_string
    # Nothing downstream feeds back into the partitioned layers.
    for key in RAW_KEYS | NORMALIZED_KEYS:
        for parent in graph.get(key).parent_keys:
            assert parent in RAW_KEYS | NORMALIZED_KEYS
    # The normalised tables are consumed further down (dbt staging reads them).
    downstream = {
        child
        for key in NORMALIZED_KEYS
        for child in graph.get(key).child_keys
        if child not in NORMALIZED_KEYS
    }
    assert downstream, "no asset consumes the normalised tables"


def test_check_keys_and_which_are_blocking(graph) -> None:  # type: ignore[no-untyped-def]
    layer_checks = {
        ck for ck in graph.asset_check_keys if ck.asset_key in RAW_KEYS | NORMALIZED_KEYS
    }
    expected = {
        dg.AssetCheckKey(dg.AssetKey(["normalized", table]), f"{table}_{kind}")
        for table in NORMALIZED_TABLES
        for kind in ("gate", "warnings")
    }
    assert layer_checks == expected
    for check in expected:
        spec = graph.get_check_spec(check)
        assert spec.blocking is check.name.endswith("_gate"), check
    assert not any(ck.asset_key in RAW_KEYS for ck in graph.asset_check_keys)


def test_dagster_definitions_validate(tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    done = subprocess.run(
        [str(DAGSTER), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        env=_clean_env(OZG_DATA_DIR=str(tmp_path / "data"), DAGSTER_HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Validation successful for code location pipelines.definitions" in (
        done.stdout + done.stderr
    )


def test_importing_the_code_location_does_not_import_great_expectations(tmp_path: Path) -> None:
    code = (
        "import pipelines.definitions, sys; "
        "pipelines.definitions.defs(); "
        "print('great_expectations' in sys.modules, 'pipelines.defs.normalized' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=_clean_env(OZG_DATA_DIR=str(tmp_path / "data")),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False True"


# -- the graph wired once: two jobs derived from the assets, autoloaded from pipelines/defs ---
def test_the_ingest_job_holds_the_partitioned_assets_and_the_publish_job_the_rest(
    loaded_defs: dg.Definitions, graph
) -> None:  # type: ignore[no-untyped-def]
    from pipelines.jobs import INGEST_JOB, PUBLISH_JOB

    ingest = loaded_defs.resolve_job_def(INGEST_JOB)
    publish = loaded_defs.resolve_job_def(PUBLISH_JOB)
    assert set(ingest.asset_layer.selected_asset_keys) == RAW_KEYS | NORMALIZED_KEYS
    assert ingest.partitions_def == scope_partitions
    published = set(publish.asset_layer.selected_asset_keys)
    assert publish.partitions_def is None
    # Together exactly the materialisable graph, each asset in one job.
    assert published | RAW_KEYS | NORMALIZED_KEYS == set(graph.materializable_asset_keys)
    assert not published & (RAW_KEYS | NORMALIZED_KEYS)
    for key in ("marts/mart_pilotvergleich", "docs/metrikverzeichnis", "published/warehouse"):
        assert dg.AssetKey.from_user_string(key) in published, key
    assert dg.AssetKey(["published", "reports"]) in published
    # dbt tests and the normalised tables' gates run in the job of their asset.
    checks = set(publish.asset_layer.asset_graph.asset_check_keys)
    assert any(c.asset_key.path[0] == "marts" for c in checks)


def test_schedule_and_sensors_target_the_two_jobs(loaded_defs: dg.Definitions) -> None:
    from pipelines.jobs import INGEST_JOB, PUBLISH_JOB

    jobs = {job.name for job in loaded_defs.jobs or []}
    assert jobs == {INGEST_JOB, PUBLISH_JOB}
    (schedule,) = loaded_defs.schedules or []
    assert (schedule.name, schedule.job_name) == ("ozg_monatlich", INGEST_JOB)
    sensors = {s.name: s for s in loaded_defs.sensors or []}
    assert set(sensors) == {"neuer_datenstand", "nach_ingest", "fehlerprotokoll"}
    assert sensors["neuer_datenstand"].job_name == INGEST_JOB
    assert sensors["nach_ingest"].job_name == PUBLISH_JOB
    assert sensors["nach_ingest"].default_status == dg.DefaultSensorStatus.RUNNING


PROBE_ASSET = """
import dagster as dg

from pipelines.partitions import scope_partitions


@dg.asset(key=["probe", "unpartitioned"], deps=[dg.AssetKey(["marts", "mart_pilotvergleich"])])
def probe_unpartitioned() -> None: ...


@dg.asset(key=["probe", "partitioned"], partitions_def=scope_partitions)
def probe_partitioned() -> None: ...
"""


def test_a_module_added_under_pipelines_defs_is_all_it_takes(tmp_path: Path) -> None:
    """Copy of the code location plus one new module in pipelines/defs/: the code
    location, its jobs and the jobs `ozg run` executes pick its assets up."""
    copy = tmp_path / "project"
    shutil.copytree(
        PROJECT_ROOT / "pipelines", copy / "pipelines", ignore=shutil.ignore_patterns("__pycache__")
    )
    for shared in ("dbt_project", "expectations", "dagster.yaml", "pyproject.toml"):
        (copy / shared).symlink_to(PROJECT_ROOT / shared)
    (copy / "pipelines" / "defs" / "probe.py").write_text(PROBE_ASSET, encoding="utf-8")
    code = (
        "import json, warnings; warnings.simplefilter('ignore')\n"
        "import pipelines, pipelines.cli as cli\n"
        "from pipelines.definitions import defs\n"
        "d = defs()\n"
        "print(json.dumps({'module': pipelines.__file__, **{job.name: sorted(k.to_user_string() "
        "for k in job.asset_layer.selected_asset_keys) for job in cli.pipeline_jobs(d)}}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=copy,
        env=_clean_env(OZG_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(copy)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    jobs = json.loads(done.stdout.strip().splitlines()[-1])
    assert jobs.pop("module") == str(copy / "pipelines" / "__init__.py")
    assert "probe/partitioned" in jobs["ozg_ingest"]
    assert "probe/unpartitioned" in jobs["ozg_publish"]
    assert "probe/unpartitioned" not in jobs["ozg_ingest"]
