"""Metric definitions for the reports, read from the dbt mart documentation.

The column descriptions and their ``meta`` (English term, unit, formula, caveat) in
``dbt_project/models/marts/_marts.yml`` are the single source of every definition shown
next to a figure, in the method page and in the workbook's dictionary sheet — the
reports never restate a definition in their own words.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from pipelines.dbt_project import DBT_PROJECT_DIR

MARTS_YML = DBT_PROJECT_DIR / "models" / "marts" / "_marts.yml"


@dataclass(frozen=True)
class ColumnDefinition:
    mart: str
    column: str
    description: str
    begriff_en: str
    einheit: str
    formel: str
    hinweis: str
    data_type: str


@dataclass(frozen=True)
class MartDefinition:
    name: str
    description: str
    columns: dict[str, ColumnDefinition]


@cache
def mart_definitions(path: Path = MARTS_YML) -> dict[str, MartDefinition]:
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    marts: dict[str, MartDefinition] = {}
    for model in document.get("models", []):
        columns = {}
        for column in model.get("columns", []):
            meta = column.get("meta") or {}
            columns[column["name"]] = ColumnDefinition(
                mart=model["name"],
                column=column["name"],
                description=(column.get("description") or "").strip(),
                begriff_en=meta.get("begriff_en") or "",
                einheit=meta.get("einheit") or "",
                formel=meta.get("formel") or "",
                hinweis=meta.get("hinweis") or "",
                data_type=column.get("data_type") or "",
            )
        marts[model["name"]] = MartDefinition(
            model["name"], (model.get("description") or "").strip(), columns
        )
    return marts


def column(mart: str, name: str) -> ColumnDefinition:
    """Definition of ``mart.name``; a KeyError names a report figure without documentation."""
    return mart_definitions()[mart].columns[name]


def definition_versions() -> list[dict[str, str]]:
    from pipelines.lib.metric_dictionary import definition_versions as versions

    return versions()
