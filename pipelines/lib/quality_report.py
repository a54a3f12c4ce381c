"""Human-readable HTML report of the quality gate, rebuilt from the stored validations.

``data/quality/report.html``: one section per snapshot, one row per table (rows,
quarantined rows with reasons, promoted or blocked), and every expectation with
its outcome, blocking flag, observed value and sample failing values. Self-contained
(no external assets), so it opens offline.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, select_autoescape

from pipelines.lib.lake import Lake

TEMPLATE = Path(__file__).parent / "templates" / "quality_report.html.j2"


def write_quality_report(lake: Lake) -> Path:
    folder = lake.quality_dir() / "validations"
    documents = [json.loads(p.read_text("utf-8")) for p in sorted(folder.glob("*.json"))]
    by_snapshot: dict[str, list[dict[str, object]]] = {}
    for document in documents:
        document["warnings"] = sum(
            1 for o in document["outcomes"] if not o["success"] and not o["blocking"]
        )
        by_snapshot.setdefault(document["snapshot"], []).append(document)
    snapshots = [
        {"snapshot": snap, "tables": sorted(tables, key=lambda d: d["table"])}
        for snap, tables in sorted(by_snapshot.items(), reverse=True)
    ]
    html = (
        Environment(autoescape=select_autoescape(default=True))
        .from_string(TEMPLATE.read_text(encoding="utf-8"))
        .render(
            snapshots=snapshots,
            sample=any(d.get("sample") for d in documents),
            generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )
    )
    path = lake.quality_dir() / "report.html"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
