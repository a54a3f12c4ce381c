"""The metric dictionary (Metrikverzeichnis): one readable page generated from the dbt
definitions themselves — model and column descriptions plus the ``meta`` of each column
(English term, unit, formula/denominator, caveat), read from the manifest by
``pipelines.warehouse.mart_definitions`` — so the page and the marts cannot drift apart.
Written as HTML (self-contained) and Markdown.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.html.environment import environment
from pipelines.warehouse import (
    ColumnDefinition,
    MartDefinition,
    definition_versions,
    mart_definitions,
)
from sources.files import atomic_write_text

COLUMNS = ("Spalte", "Bedeutung", "Begriff (EN)", "Einheit", "Formel / Nenner", "Hinweise")
TEMPLATES = Path(__file__).parent / "templates"


def _row(column: ColumnDefinition) -> list[str]:
    """The cells of one column's line, in the order of ``COLUMNS`` (as in the template)."""
    return [
        column.column,
        column.description,
        column.begriff_en,
        column.einheit,
        column.formel,
        column.hinweis,
    ]


def render_markdown(marts: list[MartDefinition], versions: list[dict[str, str]]) -> str:
    lines = ["# Metrikverzeichnis", "", "Erzeugt aus den dbt-Definitionen der Marts.", ""]
    for version in versions:
        lines += [
            f"**Definition {version['definition_version']}** (gültig ab {version['gueltig_ab']}): "
            f"online = {version['online_regel']}; anwendbar = {version['anwendbarkeit']}.",
            "",
        ]
    for mart in marts:
        lines += [f"## `marts.{mart.name}`", "", mart.description, ""]
        if mart.grain:
            lines += [f"Eine Zeile je {' × '.join(mart.grain)}.", ""]
        lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        for column in mart.columns.values():
            cells = [c.replace("|", "\\|") for c in _row(column)]
            cells[0] = f"`{cells[0]}`"
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def render_html(
    marts: list[MartDefinition], versions: list[dict[str, str]], *, sample: bool
) -> str:
    return (
        environment(TEMPLATES)
        .get_template("metrikverzeichnis.html.j2")
        .render(marts=marts, versions=versions, headings=COLUMNS, sample=sample)
    )


def write_metric_dictionary(manifest_path: Path, out_dir: Path, *, sample: bool) -> list[Path]:
    marts = list(mart_definitions(manifest_path).values())
    versions = definition_versions()
    return [
        atomic_write_text(
            out_dir / "metrikverzeichnis.html", render_html(marts, versions, sample=sample)
        ),
        atomic_write_text(out_dir / "metrikverzeichnis.md", render_markdown(marts, versions)),
    ]
