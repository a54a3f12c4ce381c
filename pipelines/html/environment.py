"""The one Jinja environment factory for every HTML page.

Autoescaping is on for every template (values from the sources and the marts are text,
never markup), an undefined name fails the build instead of rendering empty
(``StrictUndefined``: a typo in a template is caught, not shipped to a reader), block
tags take their line with them, and the German formatting filters of ``formatting.py``
are available everywhere (``{{ n|int }}`` → ``15.988``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pipelines.html.formatting import FILTERS


def environment(templates: Path, **globals_: Any) -> Environment:
    """An environment loading the templates in ``templates``, with ``globals_`` visible
    to every template it renders."""
    env = Environment(
        loader=FileSystemLoader(templates),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.globals.update(globals_)
    return env
