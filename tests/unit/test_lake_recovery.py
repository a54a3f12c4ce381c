"""A promotion interrupted between its renames is finished by the next run (pipelines/lake.py)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipelines.lake import PARTS, Lake

SNAPSHOT = date(2026, 11, 1)


def _frames(generation: str) -> dict[str, pl.DataFrame]:
    return {part: pl.DataFrame({"part": [part], "generation": [generation]}) for part in PARTS}


def _stage(lake: Lake, generation: str) -> None:
    frames = _frames(generation)
    lake.stage(
        "leistungen",
        SNAPSHOT,
        frames["data"],
        quarantine=frames["quarantine"],
        unknown_fields=frames["unknown_fields"],
    )


def _generations(lake: Lake) -> dict[str, str]:
    paths = {
        "data": lake.partition("leistungen", SNAPSHOT),
        "quarantine": lake.quarantine("leistungen", SNAPSHOT),
        "unknown_fields": lake.unknown_fields("leistungen", SNAPSHOT),
    }
    return {part: pl.read_parquet(path)["generation"][0] for part, path in paths.items()}


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake(tmp_path, "06")
    _stage(lake, "old")
    lake.promote("leistungen", SNAPSHOT)
    return lake


def test_a_promotion_killed_after_its_first_rename_is_rolled_forward(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stage(lake, "new")
    renames = 0
    real_replace = os.replace

    def killed_after_first_rename(src: str | Path, dst: str | Path) -> None:
        nonlocal renames
        if renames == 2:  # the journal, then the quarantine, were renamed into place
            raise KeyboardInterrupt("killed")  # stands in for SIGKILL between two renames
        renames += 1
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", killed_after_first_rename)
    with pytest.raises(KeyboardInterrupt):
        lake.promote("leistungen", SNAPSHOT)
    monkeypatch.setattr(os, "replace", real_replace)
    # Mixed on disk: the new quarantine beside the old partition.
    assert _generations(lake) == {"data": "old", "quarantine": "new", "unknown_fields": "old"}

    assert lake.recover("leistungen", SNAPSHOT) == "promoted"
    assert _generations(lake) == {"data": "new", "quarantine": "new", "unknown_fields": "new"}
    assert lake.recover("leistungen", SNAPSHOT) is None  # nothing left in staging


def test_an_attempt_killed_before_its_promotion_is_dropped(lake: Lake) -> None:
    _stage(lake, "new")  # staged, audit not decided: no journal
    assert lake.recover("leistungen", SNAPSHOT) == "discarded"
    assert _generations(lake) == {"data": "old", "quarantine": "old", "unknown_fields": "old"}
    staging = lake.staging("leistungen", SNAPSHOT).parent
    assert sorted(p.name for p in staging.iterdir()) == []
