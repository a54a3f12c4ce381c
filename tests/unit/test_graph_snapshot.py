"""Snapshot of the whole Dagster graph: assets, checks, jobs, schedules and sensors.

Any change to the graph's shape (a new dbt model or test, a renamed group, a changed
dependency, a blocking check turned non-blocking, a new sensor) shows up here as a diff
against ``tests/unit/snapshots/graph.json``. If the change is intended, rewrite the file::

    OZG_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/unit/test_graph_snapshot.py

and review the diff of ``graph.json`` like code.
"""

from __future__ import annotations

import difflib
import json
import os
import warnings
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from pipelines.definitions import build_definitions
from sources.config import Settings

SNAPSHOT_FILE = Path(__file__).parent / "snapshots" / "graph.json"
UPDATE_VARIABLE = "OZG_UPDATE_SNAPSHOTS"

# Layers from source to consumer; a dependency never points to a later layer.
LAYER_ORDER = {
    "raw": 0,
    "normalized": 1,
    "seeds": 2,
    "staging": 2,
    "intermediate": 3,
    "marts": 4,
    "analysis": 4,  # between the marts it reads and the analysis marts that publish it
    "docs": 5,
    "published": 6,
}


def _dimensions(partitions: dg.PartitionsDefinition | None) -> list[str] | None:
    """The partition dimensions by name (a single dimension by its kind), or None."""
    if partitions is None:
        return None
    if isinstance(partitions, dg.MultiPartitionsDefinition):
        return [dimension.name for dimension in partitions.partitions_defs]
    return [type(partitions).__name__]


def _mapped_deps(graph: Any, key: dg.AssetKey) -> dict[str, str]:
    """Between two partitioned assets, every dependency that does not map partition to
    partition of the same key: parent -> the mapping (a changed mapping is a new graph)."""
    node = graph.get(key)
    mapped = {}
    for parent in sorted(node.parent_keys):
        if node.partitions_def is None or graph.get(parent).partitions_def is None:
            continue
        mapping = graph.get_partition_mapping(key, parent)
        if isinstance(mapping, dg.IdentityPartitionMapping):
            continue
        if isinstance(mapping, dg.MultiToSingleDimensionPartitionMapping):
            mapped[parent.to_user_string()] = (
                f"{type(mapping).__name__}({mapping.partition_dimension_name})"
            )
        else:
            mapped[parent.to_user_string()] = type(mapping).__name__
    return mapped


def describe_graph(definitions: dg.Definitions) -> dict[str, Any]:
    """A JSON-serialisable, deterministic description of the graph's shape."""
    graph = definitions.resolve_asset_graph()
    assets: dict[str, dict[str, Any]] = {}
    for key in sorted(graph.get_all_asset_keys()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "partitions": _dimensions(node.partitions_def),
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
        }
        mapped = _mapped_deps(graph, key)
        if mapped:
            assets[key.to_user_string()]["partition_mappings"] = mapped
    checks: dict[str, dict[str, bool]] = {}
    for check_key in sorted(
        graph.asset_check_keys, key=lambda ck: (ck.asset_key.to_user_string(), ck.name)
    ):
        spec = graph.get_check_spec(check_key)
        checks.setdefault(check_key.asset_key.to_user_string(), {})[check_key.name] = bool(
            spec.blocking
        )
    # Dagster's implicit "__ASSET_JOB" is an internal detail, not part of our graph.
    jobs = sorted(
        job.name for job in definitions.resolve_all_job_defs() if not job.name.startswith("__")
    )
    schedules = [
        {
            "name": schedule.name,
            "cron": schedule.cron_schedule,
            "timezone": schedule.execution_timezone,
            "job": schedule.job_name,
            "default_status": schedule.default_status.value,
        }
        for schedule in sorted(definitions.schedules or [], key=lambda s: s.name)
    ]
    sensors = [
        {
            "name": sensor.name,
            "type": type(sensor).__name__,
            "job": sensor.job_name if sensor.has_jobs else None,
            "default_status": sensor.default_status.value,
        }
        for sensor in sorted(definitions.sensors or [], key=lambda s: s.name)
    ]
    return {
        "assets": assets,
        "asset_checks": checks,
        "jobs": jobs,
        "schedules": schedules,
        "sensors": sensors,
    }


def render(description: dict[str, Any]) -> str:
    return json.dumps(description, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


@pytest.fixture(scope="module")
def description(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir = tmp_path_factory.mktemp("graph-snapshot")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # map_resolved_asset_specs is a preview API
        definitions = build_definitions(Settings(data_dir=data_dir))
    return describe_graph(definitions)


def test_graph_matches_the_committed_snapshot(description: dict[str, Any]) -> None:
    actual = render(description)
    if os.environ.get(UPDATE_VARIABLE, "").strip() not in ("", "0"):
        SNAPSHOT_FILE.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT_FILE.write_text(actual, encoding="utf-8")
    assert SNAPSHOT_FILE.is_file(), (
        f"{SNAPSHOT_FILE} is missing; create it with {UPDATE_VARIABLE}=1 "
        ".venv/bin/python -m pytest tests/unit/test_graph_snapshot.py"
    )
    expected = SNAPSHOT_FILE.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"{SNAPSHOT_FILE.name} (committed)",
                tofile=f"{SNAPSHOT_FILE.name} (current graph)",
                n=2,
            )
        )
        pytest.fail(
            "the Dagster graph differs from the committed snapshot:\n"
            f"{diff}\n"
            f"If this change is intended, rewrite the snapshot with\n"
            f"    {UPDATE_VARIABLE}=1 .venv/bin/python -m pytest "
            "tests/unit/test_graph_snapshot.py\n"
            "and review the diff of tests/unit/snapshots/graph.json.",
            pytrace=False,
        )


def test_every_dependency_points_from_an_earlier_layer(description: dict[str, Any]) -> None:
    assets = description["assets"]
    assert {key.split("/")[0] for key in assets} == set(LAYER_ORDER)
    for key, node in assets.items():
        layer = LAYER_ORDER[key.split("/")[0]]
        for parent in node["deps"]:
            assert parent in assets, f"{key} depends on unknown asset {parent}"
            assert LAYER_ORDER[parent.split("/")[0]] <= layer, f"{parent} -> {key}"


def test_only_the_ingest_layers_are_partitioned_by_land_and_snapshot(
    description: dict[str, Any],
) -> None:
    nationwide = {"raw/destatis_gv100ad", "raw/fim"}  # one landing per snapshot
    for key, node in description["assets"].items():
        ingest = key.split("/")[0] in ("raw", "normalized")
        if key in nationwide:
            assert node["partitions"] == ["MonthlyPartitionsDefinition"], key
        else:
            assert node["partitions"] == (["land", "snapshot"] if ingest else None), key
        # A Land × snapshot asset reads a nationwide one by the snapshot of its partition.
        expected = {
            parent: "MultiToSingleDimensionPartitionMapping(snapshot)"
            for parent in node["deps"]
            if parent in nationwide
        }
        assert node.get("partition_mappings", {}) == expected, key
    # The publishing step waits for the docs and for every mart.
    published = description["assets"]["published/warehouse"]["deps"]
    marts = {key for key in description["assets"] if key.startswith("marts/")}
    assert marts and marts <= set(published)
    assert "docs/metrikverzeichnis" in published


def test_the_render_is_stable_and_a_change_shows_in_the_diff(
    description: dict[str, Any],
) -> None:
    # The comparison is text-based: rendering must be deterministic, and flipping one
    # check's blocking flag must change the text.
    assert render(description) == render(json.loads(render(description)))
    changed = json.loads(render(description))
    asset, checks = next(iter(changed["asset_checks"].items()))
    name = next(iter(checks))
    checks[name] = not checks[name]
    assert render(changed) != render(description), (asset, name)
