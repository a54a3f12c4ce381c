"""Human-readable HTML report of the quality gate, rebuilt from the stored validations.

``data/quality/report.html``: one section per snapshot and Land, one row per table (rows,
quarantined rows with reasons, promoted or blocked), and every expectation with
its outcome, severity (blocking or warning), observed value and sample failing values.
Self-contained (no external assets), so it opens offline. great-expectations' own result
documents (``*.gx.json``, written by the gate next to each summary) are named, not read.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from pipelines.html.environment import environment
from pipelines.lake import Lake
from pipelines.quality.suites import CRITICAL, GX_RESULT_SUFFIX, WARNING
from sources.config import LAENDER
from sources.files import atomic_write_text

TEMPLATES = Path(__file__).parent / "templates"


def write_quality_report(lake: Lake) -> Path:
    folder = lake.quality_dir() / "validations"
    documents = [
        json.loads(p.read_text("utf-8"))
        for p in sorted(folder.glob("*.json"))
        if not p.name.endswith(GX_RESULT_SUFFIX)
    ]
    by_scope: dict[tuple[str, str], list[dict[str, object]]] = {}
    for document in documents:
        for outcome in document["outcomes"]:
            # A summary written before severity replaced meta.blocking (a partition not
            # rebuilt yet) carries the flag instead.
            outcome.setdefault("severity", CRITICAL if outcome.get("blocking", True) else WARNING)
            outcome["blocking"] = outcome["severity"] == CRITICAL
        document["warnings"] = sum(
            1 for o in document["outcomes"] if not o["success"] and not o["blocking"]
        )
        key = (str(document["snapshot"]), str(document.get("land", "")))
        by_scope.setdefault(key, []).append(document)
    # Newest Stichtag first; within it, the Länder in code order.
    snapshots = [
        {
            "snapshot": snap,
            "land": land,
            "land_name": LAENDER.get(land, ""),
            "tables": sorted(tables, key=lambda d: str(d["table"])),
        }
        for (snap, land), tables in sorted(
            by_scope.items(), key=lambda i: (i[0][0], -int(i[0][1] or 0)), reverse=True
        )
    ]
    html = (
        environment(TEMPLATES)
        .get_template("quality_report.html.j2")
        .render(
            snapshots=snapshots,
            sample=any(d.get("sample") for d in documents),
            generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )
    )
    return atomic_write_text(lake.quality_dir() / "report.html", html)
