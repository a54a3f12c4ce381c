"""The metric dictionary (Metrikverzeichnis): one readable page generated from the dbt
definitions themselves — model and column descriptions plus the ``meta`` of each column
(English term, unit, formula/denominator, caveat) — so the page and the marts cannot
drift apart. Written as HTML (self-contained) and Markdown.
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path
from typing import Any

from pipelines.dbt_project import DBT_PROJECT_DIR

COLUMNS = ("Spalte", "Bedeutung", "Begriff (EN)", "Einheit", "Formel / Nenner", "Hinweise")


def mart_definitions(manifest_path: Path) -> list[dict[str, Any]]:
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    marts = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["config"].get("schema") != "marts":
            continue
        grain = next(
            (
                t["test_metadata"]["kwargs"].get("combination_of_columns")
                for t in manifest["nodes"].values()
                if t["resource_type"] == "test"
                and t.get("attached_node") == node["unique_id"]
                and t.get("test_metadata", {}).get("name") == "unique_combination"
            ),
            None,
        )
        columns = [
            {
                "name": name,
                "description": column.get("description", ""),
                "data_type": column.get("data_type"),
                **{
                    k: column.get("meta", {}).get(k)
                    for k in ("begriff_en", "einheit", "formel", "hinweis")
                },
            }
            for name, column in node["columns"].items()
        ]
        marts.append(
            {
                "name": node["name"],
                "description": node["description"],
                "grain": grain,
                "columns": columns,
            }
        )
    return sorted(marts, key=lambda m: m["name"])


def definition_versions() -> list[dict[str, str]]:
    with open(DBT_PROJECT_DIR / "seeds" / "metric_definitions.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _row(column: dict[str, Any]) -> list[str]:
    return [
        column["name"],
        column["description"],
        column.get("begriff_en") or "",
        column.get("einheit") or "",
        column.get("formel") or "",
        column.get("hinweis") or "",
    ]


def render_markdown(marts: list[dict[str, Any]], versions: list[dict[str, str]]) -> str:
    lines = ["# Metrikverzeichnis", "", "Erzeugt aus den dbt-Definitionen der Marts.", ""]
    for version in versions:
        lines += [
            f"**Definition {version['definition_version']}** (gültig ab {version['gueltig_ab']}): "
            f"online = {version['online_regel']}; anwendbar = {version['anwendbarkeit']}.",
            "",
        ]
    for mart in marts:
        lines += [f"## `marts.{mart['name']}`", "", mart["description"], ""]
        if mart["grain"]:
            lines += [f"Eine Zeile je {' × '.join(mart['grain'])}.", ""]
        lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        for column in mart["columns"]:
            cells = [c.replace("|", "\\|") for c in _row(column)]
            cells[0] = f"`{cells[0]}`"
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def render_html(
    marts: list[dict[str, Any]], versions: list[dict[str, str]], *, sample: bool
) -> str:
    esc = html.escape
    parts = [
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">',
        "<title>Metrikverzeichnis</title><style>",
        "body{font-family:system-ui,sans-serif;margin:2rem;max-width:90rem;color:#1b1b1b}",
        "table{border-collapse:collapse;width:100%;font-size:.9rem;margin-bottom:2rem}",
        "th,td{border:1px solid #c8c8c8;padding:.3rem .5rem;text-align:left;vertical-align:top}",
        "th{background:#eef3f8} code{font-size:.85rem}",
        ".banner{background:#fff4ce;border:2px solid #8a5a00;padding:.6rem 1rem;font-weight:600}",
        "nav a{margin-right:1rem}</style></head><body>",
    ]
    if sample:
        parts.append(
            '<p class="banner" role="note">Beispieldaten – synthetisch, keine amtlichen Zahlen.</p>'
        )
    parts.append(
        "<h1>Metrikverzeichnis</h1><p>Jede Kennzahl mit Formel, Einheit, Nenner und "
        "Hinweisen; erzeugt aus denselben dbt-Definitionen wie die Marts.</p>"
    )
    for version in versions:
        parts.append(
            f"<p><strong>Definition {esc(version['definition_version'])}</strong> "
            f"(gültig ab {esc(version['gueltig_ab'])}): online = {esc(version['online_regel'])}; "
            f"anwendbar = {esc(version['anwendbarkeit'])}.</p>"
        )
    parts.append(
        "<nav>" + "".join(f'<a href="#{m["name"]}">{m["name"]}</a>' for m in marts) + "</nav>"
    )
    for mart in marts:
        parts.append(f'<h2 id="{mart["name"]}"><code>marts.{esc(mart["name"])}</code></h2>')
        parts.append(f"<p>{esc(mart['description'])}</p>")
        if mart["grain"]:
            parts.append(f"<p>Eine Zeile je {esc(' × '.join(mart['grain']))}.</p>")
        parts.append(
            "<table><thead><tr>"
            + "".join(f"<th>{c}</th>" for c in COLUMNS)
            + "</tr></thead><tbody>"
        )
        for column in mart["columns"]:
            cells = [esc(c) for c in _row(column)]
            cells[0] = f"<code>{cells[0]}</code>"
            parts.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_metric_dictionary(manifest_path: Path, out_dir: Path, *, sample: bool) -> list[Path]:
    marts = mart_definitions(manifest_path)
    versions = definition_versions()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        ("metrikverzeichnis.html", render_html(marts, versions, sample=sample)),
        ("metrikverzeichnis.md", render_markdown(marts, versions)),
    ):
        path = out_dir / name
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written
