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

from pipelines.partitions import (
    land_partitions,
    nationwide_partitions,
    scope_partitions,
    snapshot_partitions,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAGSTER = Path(sys.executable).parent / "dagster"

RAW_KEYS = {dg.AssetKey(["raw", name]) for name in ("destatis_gv100ad", "dashboard", "pvog", "fim")}
# The nationwide sources land once per snapshot (raw/<source>/<snapshot>/).
NATIONWIDE_KEYS = {dg.AssetKey(["raw", name]) for name in ("destatis_gv100ad", "fim")}
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
        expected = nationwide_partitions if key in NATIONWIDE_KEYS else scope_partitions
        assert partitions == expected, key
    assert isinstance(scope_partitions, dg.MultiPartitionsDefinition)
    dimensions = {d.name: d.partitions_def for d in scope_partitions.partitions_defs}
    assert dimensions == {"land": land_partitions, "snapshot": snapshot_partitions}
    # The nationwide assets are partitioned by the snapshot dimension itself.
    assert nationwide_partitions is snapshot_partitions
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


def test_a_land_partition_reads_the_nationwide_partition_of_its_snapshot(graph) -> None:  # type: ignore[no-untyped-def]
    """Every edge from a nationwide asset to a Land × snapshot one maps by the snapshot:
    each Land partition of a snapshot reads the one nationwide partition of that snapshot,
    and that partition feeds every Land of its snapshot and no other snapshot."""
    edges = [
        (parent, child)
        for child in RAW_KEYS | NORMALIZED_KEYS
        for parent in graph.get(child).parent_keys
        if parent in NATIONWIDE_KEYS
    ]
    assert {(p.to_user_string(), c.to_user_string()) for p, c in edges} == {
        ("raw/destatis_gv100ad", "raw/dashboard"),
        ("raw/destatis_gv100ad", "normalized/gebiete"),
        ("raw/fim", "normalized/leistungen"),
    }
    hessen = dg.MultiPartitionKey({"land": "06", "snapshot": "2026-11-01"})
    for parent, child in edges:
        mapping = graph.get_partition_mapping(child, parent)
        assert isinstance(mapping, dg.MultiToSingleDimensionPartitionMapping), (parent, child)
        assert mapping.partition_dimension_name == "snapshot"
        upstream = mapping.get_upstream_mapped_partitions_result_for_partitions(
            scope_partitions.subset_with_partition_keys([hessen]),
            scope_partitions,
            nationwide_partitions,
        ).partitions_subset
        assert set(upstream.get_partition_keys()) == {"2026-11-01"}
        downstream = mapping.get_downstream_partitions_for_partitions(
            nationwide_partitions.subset_with_partition_keys(["2026-11-01"]),
            nationwide_partitions,
            scope_partitions,
        )
        assert {k.keys_by_dimension["snapshot"] for k in downstream.get_partition_keys()} == {
            "2026-11-01"
        }
        assert {k.keys_by_dimension["land"] for k in downstream.get_partition_keys()} == set(
            land_partitions.get_partition_keys()
        )
    # Between Land × snapshot assets the partitions map one to one.
    for child in RAW_KEYS | NORMALIZED_KEYS:
        for parent in graph.get(child).parent_keys:
            if parent not in NATIONWIDE_KEYS:
                assert isinstance(
                    graph.get_partition_mapping(child, parent), dg.IdentityPartitionMapping
                ), (parent, child)


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


# -- a fresh interpreter: one for all three checks below ----------------------------------------
PROBE_ASSET = """
import dagster as dg

from pipelines.partitions import nationwide_partitions, scope_partitions


@dg.asset(key=["probe", "unpartitioned"], deps=[dg.AssetKey(["marts", "mart_pilotvergleich"])])
def probe_unpartitioned() -> None: ...


@dg.asset(key=["probe", "partitioned"], partitions_def=scope_partitions)
def probe_partitioned() -> None: ...


@dg.asset(key=["probe", "nationwide"], partitions_def=nationwide_partitions)
def probe_nationwide() -> None: ...
"""

# Run in a fresh interpreter (each check needs one: nothing imported yet, a code location
# loaded from another folder). Starting Python and importing dagster, dagster-dbt and polars
# is most of the cost of each check, so one interpreter does all three, one after the other:
# 1. ``dagster definitions validate -w workspace.yaml`` of the project – the CLI's own
#    command, run in process (it loads the code location in process, as the console script
#    does): its exit status and log;
# 2. what loading the code location imported (great_expectations must wait for a gate run);
# 3. every ``pipelines`` module dropped, the copy of the code location with one module added
#    under pipelines/defs/ imported instead: its jobs, as ``ozg run`` resolves them.
FRESH_INTERPRETER = """
import json, os, sys, warnings

project, copy = sys.argv[1], sys.argv[2]
result = {}
from dagster._cli import ENV_PREFIX, cli

os.chdir(project)
try:  # its log goes to stdout and stderr, as the console script's does
    cli.main(
        args=["definitions", "validate", "-w", "workspace.yaml"],
        prog_name="dagster",
        auto_envvar_prefix=ENV_PREFIX,
        standalone_mode=False,
    )
    result["validate_status"] = 0
except SystemExit as exit:
    result["validate_status"] = exit.code
sys.stderr.flush()
result["loaded"] = {
    name: name in sys.modules for name in ("great_expectations", "pipelines.defs.normalized")
}
result["loaded_from"] = sys.modules["pipelines"].__file__

for name in [m for m in sys.modules if m == "pipelines" or m.startswith("pipelines.")]:
    del sys.modules[name]
os.chdir(copy)
sys.path.insert(0, copy)
warnings.simplefilter("ignore")
import pipelines, pipelines.cli as cli_module
from pipelines.definitions import defs

ingest, publish = cli_module.pipeline_jobs(defs())
result["copy"] = {
    "module": pipelines.__file__,
    **{
        job.name: sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys)
        for job in [*ingest, publish]
    },
    "order": [job.name for job in ingest],
}
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def fresh_interpreter(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """What the fresh interpreter found (see FRESH_INTERPRETER)."""
    root = tmp_path_factory.mktemp("fresh-interpreter")
    home = root / "dagster_home"
    home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    copy = root / "project"
    shutil.copytree(
        PROJECT_ROOT / "pipelines", copy / "pipelines", ignore=shutil.ignore_patterns("__pycache__")
    )
    for shared in ("dbt_project", "expectations", "dagster.yaml", "pyproject.toml"):
        (copy / shared).symlink_to(PROJECT_ROOT / shared)
    (copy / "pipelines" / "defs" / "probe.py").write_text(PROBE_ASSET, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", FRESH_INTERPRETER, str(PROJECT_ROOT), str(copy)],
        cwd=PROJECT_ROOT,
        env=_clean_env(OZG_DATA_DIR=str(root / "data"), DAGSTER_HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["copy_root"] = str(copy)
    result["output"] = done.stdout + done.stderr
    return result


def test_dagster_definitions_validate(fresh_interpreter: dict[str, object]) -> None:
    output = str(fresh_interpreter["output"])
    assert fresh_interpreter["validate_status"] == 0, output[-4000:]
    assert "Validation successful for code location pipelines.definitions" in output
    # The project's code location, not the copy loaded afterwards.
    assert fresh_interpreter["loaded_from"] == str(PROJECT_ROOT / "pipelines" / "__init__.py")


def test_importing_the_code_location_does_not_import_great_expectations(
    fresh_interpreter: dict[str, object],
) -> None:
    assert fresh_interpreter["loaded"] == {
        "great_expectations": False,
        "pipelines.defs.normalized": True,
    }


# -- the graph wired once: jobs derived from the assets, autoloaded from pipelines/defs --------
def test_each_ingest_job_holds_one_partitioning_and_the_publish_job_the_rest(
    loaded_defs: dg.Definitions, graph
) -> None:  # type: ignore[no-untyped-def]
    from pipelines.jobs import INGEST_JOB, NATIONWIDE_JOB, PUBLISH_JOB

    nationwide = loaded_defs.resolve_job_def(NATIONWIDE_JOB)
    ingest = loaded_defs.resolve_job_def(INGEST_JOB)
    publish = loaded_defs.resolve_job_def(PUBLISH_JOB)
    assert set(nationwide.asset_layer.selected_asset_keys) == NATIONWIDE_KEYS
    assert nationwide.partitions_def == nationwide_partitions
    assert set(ingest.asset_layer.selected_asset_keys) == (RAW_KEYS - NATIONWIDE_KEYS) | (
        NORMALIZED_KEYS
    )
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
    gates = set(ingest.asset_layer.asset_graph.asset_check_keys)
    assert any(c.asset_key.path[0] == "normalized" for c in gates)


def test_an_asset_of_an_unknown_partitioning_is_refused() -> None:
    from pipelines.jobs import build_jobs

    @dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2026-01-01"))
    def daily() -> None: ...

    with pytest.raises(ValueError, match=r"daily: no ingest job for its partitions .*INGEST_JOBS"):
        build_jobs([daily])


def test_schedule_and_sensors_target_the_jobs(loaded_defs: dg.Definitions) -> None:
    from pipelines.jobs import INGEST_JOB, NATIONWIDE_JOB, PUBLISH_JOB

    jobs = {job.name for job in loaded_defs.jobs or []}
    assert jobs == {NATIONWIDE_JOB, INGEST_JOB, PUBLISH_JOB}
    # The schedule starts with the nationwide run; nach_bundesweit follows it with the Länder.
    (schedule,) = loaded_defs.schedules or []
    assert (schedule.name, schedule.job_name) == ("ozg_monatlich", NATIONWIDE_JOB)
    sensors = {s.name: s for s in loaded_defs.sensors or []}
    assert set(sensors) == {"neuer_datenstand", "nach_bundesweit", "nach_ingest", "fehlerprotokoll"}
    assert sensors["neuer_datenstand"].job_name == NATIONWIDE_JOB
    assert sensors["nach_bundesweit"].job_name == INGEST_JOB
    assert sensors["nach_bundesweit"].default_status == dg.DefaultSensorStatus.RUNNING
    assert sensors["nach_ingest"].job_name == PUBLISH_JOB
    assert sensors["nach_ingest"].default_status == dg.DefaultSensorStatus.RUNNING


def test_a_module_added_under_pipelines_defs_is_all_it_takes(
    fresh_interpreter: dict[str, object],
) -> None:
    """Copy of the code location plus one new module in pipelines/defs/: the code
    location, its jobs and the jobs `ozg run` executes pick its assets up."""
    jobs = dict(fresh_interpreter["copy"])  # type: ignore[call-overload]
    copy = Path(str(fresh_interpreter["copy_root"]))
    assert jobs.pop("module") == str(copy / "pipelines" / "__init__.py")
    assert jobs.pop("order") == ["ozg_ingest_nationwide", "ozg_ingest"]
    assert "probe/partitioned" in jobs["ozg_ingest"]
    assert "probe/nationwide" in jobs["ozg_ingest_nationwide"]
    assert "probe/unpartitioned" in jobs["ozg_publish"]
    assert "probe/unpartitioned" not in jobs["ozg_ingest"]
    assert "probe/nationwide" not in jobs["ozg_ingest"]
    assert "probe/partitioned" not in jobs["ozg_ingest_nationwide"]
