"""Jinja2 environment, common page context and atomic file writes for the reports."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pipelines.lib.reports.data import SAMPLE_NOTE
from pipelines.lib.reports.formatting import FILTERS

TEMPLATES = Path(__file__).parent / "templates"

# File names inside the reports folder; pages link each other relatively (offline).
INDEX = "index.html"
COMPARISON = "pilotvergleich.html"
METHOD = "methode.html"
WORKBOOK = "ozg-workshop-kennzahlen.xlsx"


def steckbrief_file(ars: str) -> str:
    return f"steckbrief-{ars}.html"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,  # a typo in a template fails the build, not the reader
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.globals.update(
        steckbrief_file=steckbrief_file,
        INDEX=INDEX,
        COMPARISON=COMPARISON,
        METHOD=METHOD,
        WORKBOOK=WORKBOOK,
    )
    return env


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


def write_atomically(path: Path, content: str | bytes) -> Path:
    """Readers never see a half-written page: write a sibling, then rename over."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex[:8]}-{path.name}")
    try:
        if isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            tmp.write_text(content, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
