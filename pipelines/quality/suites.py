"""The great-expectations 1.x suites of the normalised tables, and validating a frame
against one (the gate in ``pipelines/normalisation/gate.py`` decides what a result means).

Suites live as JSON in ``expectations/<table>.json``. Every expectation carries
``meta.id`` (a stable name), ``meta.blocking`` (a failure blocks promotion) and
``meta.description``. Dynamic values (known ARS, row-count bounds from the previous
snapshot, the GV100AD population total) are passed as ``$PARAMETER`` values.

great-expectations is imported lazily (it takes seconds and thousands of modules),
never when the Dagster code location loads. Validation runs on pandas frames backed
by pyarrow, converted from polars.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"
SAMPLE_VALUES = 5


@dataclass(frozen=True)
class Outcome:
    id: str
    type: str
    column: str | None
    blocking: bool
    success: bool
    description: str
    observed: str | None = None
    unexpected_count: int | None = None
    unexpected_sample: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class Validation:
    table: str
    snapshot: str
    rows: int
    outcomes: list[Outcome]

    @property
    def blocking_failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.blocking and not o.success]

    @property
    def warnings(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.blocking and not o.success]

    @property
    def passed(self) -> bool:
        return not self.blocking_failures

    def summary(self) -> str:
        if self.passed:
            return (
                f"{self.table} {self.snapshot}: {len(self.outcomes)} expectations, "
                f"all blocking passed, {len(self.warnings)} warning(s)"
            )
        parts = [
            f"{o.id} ({o.observed or f'{o.unexpected_count} unexpected'}; "
            f"e.g. {', '.join(o.unexpected_sample) or '-'})"
            for o in self.blocking_failures
        ]
        return f"{self.table} {self.snapshot}: blocking expectation(s) failed: " + "; ".join(parts)

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> Validation:
        return cls(
            table=document["table"],
            snapshot=document["snapshot"],
            rows=document["rows"],
            outcomes=[Outcome(**o) for o in document["outcomes"]],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "snapshot": self.snapshot,
            "rows": self.rows,
            "passed": self.passed,
            "outcomes": [asdict(o) for o in self.outcomes],
        }


def load_suite(table: str, land: str = "06") -> dict[str, Any]:
    """The suite of ``table``; ``{land}`` in row conditions becomes the Land in scope."""
    path = EXPECTATIONS_DIR / f"{table}.json"
    if not land.isdigit() or len(land) != 2:
        raise ValueError(f"Land code must be two digits, not {land!r}")
    suite = json.loads(path.read_text(encoding="utf-8").replace("{land}", land))
    ids = [e["meta"]["id"] for e in suite["expectations"]]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{path}: duplicate meta.id in suite")
    return suite


@cache
def _gx() -> tuple[Any, Any]:
    """An ephemeral context with one pandas dataframe batch definition (built once)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas("normalized")
        .add_dataframe_asset("partition")
        .add_batch_definition_whole_dataframe("whole")
    )
    return gx, (context, batch_definition)


def validate(
    table: str, frame: pl.DataFrame, snapshot: str, parameters: dict[str, Any], *, land: str
) -> Validation:
    gx, (context, batch_definition) = _gx()
    definition = load_suite(table, land)
    suite_name = f"{table}__{snapshot}"
    if suite_name in [s.name for s in context.suites.all()]:
        context.suites.delete(suite_name)
    suite = context.suites.add(
        gx.ExpectationSuite(name=suite_name, expectations=definition["expectations"])
    )
    batch = batch_definition.get_batch(
        batch_parameters={"dataframe": frame.to_pandas(use_pyarrow_extension_array=True)}
    )
    result = batch.validate(suite, expectation_parameters=parameters)
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        meta = config.meta or {}
        details = item.result or {}
        observed = details.get("observed_value")
        sample = details.get("partial_unexpected_list") or []
        error = None
        if isinstance(item.exception_info, dict) and item.exception_info.get("raised_exception"):
            error = str(item.exception_info.get("exception_message"))
        outcomes.append(
            Outcome(
                id=meta["id"],
                type=config.type,
                column=config.kwargs.get("column"),
                blocking=bool(meta.get("blocking", True)),
                success=bool(item.success),
                description=meta.get("description", ""),
                observed=None if observed is None else _short(observed),
                unexpected_count=details.get("unexpected_count"),
                unexpected_sample=[_short(v) for v in sample[:SAMPLE_VALUES]],
                error=error,
            )
        )
    order = {e["meta"]["id"]: i for i, e in enumerate(definition["expectations"])}
    outcomes.sort(key=lambda o: order[o.id])
    context.suites.delete(suite_name)
    return Validation(table, snapshot, frame.height, outcomes)


def _short(value: object, limit: int = 120) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"
