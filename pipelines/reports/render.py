"""The reports' Jinja environment (the shared factory with the page names as globals) and
the context every page states in its header and footer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment

from pipelines.html.environment import environment as html_environment
from pipelines.reports.data import SAMPLE_NOTE
from sources.identifiers import validate_ars

TEMPLATES = Path(__file__).parent / "templates"

# File names inside the reports folder; pages link each other relatively (offline).
INDEX = "index.html"
COMPARISON = "pilotvergleich.html"
METHOD = "methode.html"
DRIVERS = "treiber.html"
WORKBOOK = "ozg-workshop-kennzahlen.xlsx"


def steckbrief_file(ars: str) -> str:
    return f"steckbrief-{validate_ars(ars)}.html"


def environment() -> Environment:
    return html_environment(
        TEMPLATES,
        steckbrief_file=steckbrief_file,
        INDEX=INDEX,
        COMPARISON=COMPARISON,
        METHOD=METHOD,
        DRIVERS=DRIVERS,
        WORKBOOK=WORKBOOK,
    )


@dataclass(frozen=True)
class PageFacts:
    """What every page states in its header and footer."""

    snapshot: date
    sample: bool
    published_at: str | None
    mode: str
    definition_version: str
    generated: str

    def as_context(self) -> dict[str, Any]:
        return {
            "snapshot": self.snapshot,
            "sample": self.sample,
            "sample_note": SAMPLE_NOTE,
            "published_at": self.published_at,
            "mode": self.mode,
            "definition_version": self.definition_version,
            "generated": self.generated,
        }


def now_label() -> str:
    return datetime.now(UTC).strftime("%d.%m.%Y, %H:%M UTC")


def render(env: Environment, template: str, facts: PageFacts, **context: Any) -> str:
    return env.get_template(template).render(**facts.as_context(), **context)
