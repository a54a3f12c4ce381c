"""Reading run history from a Dagster instance under a data directory (shared by the
end-to-end tests that check what `ozg run` recorded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg


def _instance(data_dir: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(data_dir / "dagster"))


def materializations(
    data_dir: Path, key: list[str], partition: str | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(run id, metadata values) of each materialisation of ``key``/``partition``, oldest first."""
    with _instance(data_dir) as instance:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey(key), asset_partitions=[partition] if partition else None
            ),
            limit=10,
            ascending=True,
        ).records
        result = []
        for record in records:
            materialization = record.asset_materialization
            assert materialization is not None
            values = {k: v.value for k, v in materialization.metadata.items()}
            result.append((record.run_id, values))
        return result


def step_seconds(data_dir: Path, run_id: str, step_prefix: str) -> float:
    """Seconds the steps of ``run_id`` whose key starts with ``step_prefix`` took."""
    with _instance(data_dir) as instance:
        return sum(
            (stat.end_time or 0) - (stat.start_time or 0)
            for stat in instance.get_run_step_stats(run_id)
            if stat.step_key.startswith(step_prefix)
        )


def run_tags(data_dir: Path, run_id: str) -> dict[str, str]:
    with _instance(data_dir) as instance:
        run = instance.get_run_by_id(run_id)
        assert run is not None
        return dict(run.tags)


def run_start(data_dir: Path, run_id: str) -> float:
    with _instance(data_dir) as instance:
        return instance.get_run_stats(run_id).start_time or 0


def materialized_keys(data_dir: Path) -> dict[str, set[str]]:
    """Per asset key (user string), the partitions it was materialised for ("" = none)."""
    with _instance(data_dir) as instance:
        keys: dict[str, set[str]] = {}
        for key in instance.get_asset_keys():
            records = instance.fetch_materializations(key, limit=1000).records
            if records:
                keys[key.to_user_string()] = {
                    (r.asset_materialization.partition or "") if r.asset_materialization else ""
                    for r in records
                }
        return keys


def job_runs(data_dir: Path) -> list[tuple[str, str | None]]:
    """(job name, partition tag) of every run, oldest first."""
    with _instance(data_dir) as instance:
        runs = reversed(instance.get_runs())
        return [(run.job_name, run.tags.get("dagster/partition")) for run in runs]


def data_versions(data_dir: Path, key: list[str], partition: str | None = None) -> list[str]:
    """The data version of each materialisation of ``key``/``partition``, oldest first."""
    with _instance(data_dir) as instance:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey(key), asset_partitions=[partition] if partition else None
            ),
            limit=10,
            ascending=True,
        ).records
        return [
            r.asset_materialization.tags.get("dagster/data_version", "")
            for r in records
            if r.asset_materialization
        ]
