"""The great-expectations 1.x suites of the normalised tables, and validating a frame
against one (the gate in ``pipelines/normalisation/gate.py`` decides what a result means).

A table's suite has two parts:

* **structural** expectations, generated from the table's contract
  (``pipelines/quality/contracts.py``) and never written by hand: ``columns`` (the
  columns in their order), ``type_<column>`` for every column, ``not_null_<column>`` for
  every non-null column and ``unique_grain`` (one row per grain within the partition);
* **semantic** expectations, kept as JSON in ``expectations/<table>.json``: what the
  contract cannot say — the format of a key (``format_*``), closed sets that are business
  rules, value ranges, row-count bounds, coverage against the upstream tables, population
  totals, and any expectation that only warns. The rule: if it follows from a column's
  type, nullability or the grain it is generated; everything else is semantic.

Every expectation carries ``meta.id`` (a stable name the tests and the quality report
use), ``meta.description`` and great-expectations' own ``severity``: ``critical`` (a
failure blocks promotion of the partition) or ``warning`` (reported, never blocking);
structural ones are critical. Dynamic values (known ARS, row-count bounds from the previous
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

from pipelines.quality.contracts import CONTRACTS, TableContract
from sources.identifiers import validate_land

EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"
SAMPLE_VALUES = 5
CRITICAL = "critical"  # blocks promotion
WARNING = "warning"  # reported only
SEVERITIES = (CRITICAL, WARNING)
# great-expectations' own result document of a validation, stored next to its summary.
GX_RESULT_SUFFIX = ".gx.json"
# Ids of the generated expectations: a suite file must not declare them itself.
STRUCTURAL_IDS = ("columns", "unique_grain")
STRUCTURAL_PREFIXES = ("type_", "not_null_")


@dataclass(frozen=True)
class Outcome:
    id: str
    type: str
    column: str | None
    severity: str
    success: bool
    description: str
    observed: str | None = None
    unexpected_count: int | None = None
    unexpected_sample: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def blocking(self) -> bool:
        return self.severity == CRITICAL


@dataclass(frozen=True)
class Validation:
    table: str
    snapshot: str
    rows: int
    outcomes: list[Outcome]
    # great-expectations' own result document (``to_json_dict()``), stored by the gate
    # next to the summary; absent when read back from a stored summary.
    gx_result: dict[str, Any] | None = field(default=None, compare=False, repr=False)

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


# -- the suites -----------------------------------------------------------------------------
def _gx_type(dtype: pl.DataType) -> str:
    """The ``type_`` great-expectations checks a column of ``dtype`` against."""
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype.is_integer():
        return "int"
    names = {pl.String: "str", pl.Date: "date", pl.Boolean: "bool"}
    try:
        return names[dtype.base_type()]
    except KeyError:
        raise ValueError(f"no great-expectations type declared for polars {dtype}") from None


def _expectation(type_: str, kwargs: dict[str, Any], id_: str, description: str) -> dict[str, Any]:
    return {
        "type": type_,
        "kwargs": kwargs,
        "meta": {"id": id_, "description": description},
        "severity": CRITICAL,
    }


def structural_expectations(contract: TableContract) -> list[dict[str, Any]]:
    """The expectations a table's contract implies (see the module docstring)."""
    generated = [
        _expectation(
            "expect_table_columns_to_match_ordered_list",
            {"column_list": contract.columns},
            "columns",
            "columns and their order match the declared schema",
        )
    ]
    for column, dtype in contract.schema.items():
        gx_type = _gx_type(dtype)
        generated.append(
            _expectation(
                "expect_column_values_to_be_of_type",
                {"column": column, "type_": gx_type},
                f"type_{column}",
                f"{column} is of type {gx_type}",
            )
        )
    generated += [
        _expectation(
            "expect_column_values_to_not_be_null",
            {"column": column},
            f"not_null_{column}",
            f"{column} is never empty",
        )
        for column in contract.non_null
    ]
    grain = list(contract.partition_grain)
    generated.append(
        _expectation(
            "expect_column_values_to_be_unique",
            {"column": grain[0]},
            "unique_grain",
            f"one row per {grain[0]}",
        )
        if len(grain) == 1
        else _expectation(
            "expect_compound_columns_to_be_unique",
            {"column_list": grain},
            "unique_grain",
            "one row per " + " × ".join(grain),
        )
    )
    return generated


def suite_file(table: str) -> Path:
    """The semantic expectations of ``table``."""
    return EXPECTATIONS_DIR / f"{table}.json"


def load_suite(table: str, land: str = "06") -> dict[str, Any]:
    """The suite of ``table``: the structural expectations generated from its contract,
    then the semantic ones of its file, where ``{land}`` in row conditions becomes the
    Land in scope."""
    path = suite_file(table)
    suite = json.loads(path.read_text(encoding="utf-8").replace("{land}", validate_land(land)))
    for expectation in suite["expectations"]:
        id_ = expectation["meta"]["id"]
        if id_ in STRUCTURAL_IDS or id_.startswith(STRUCTURAL_PREFIXES):
            raise ValueError(f"{path}: {id_} is generated from the table's contract")
        if expectation.get("severity") not in SEVERITIES:
            raise ValueError(f"{path}: {id_} needs a severity, one of {', '.join(SEVERITIES)}")
        if "blocking" in expectation["meta"]:
            raise ValueError(f"{path}: {id_}: meta.blocking is replaced by severity")
    suite["expectations"] = [*structural_expectations(CONTRACTS[table]), *suite["expectations"]]
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
    import pandas as pd

    with pd.option_context("future.infer_string", True):
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
                severity=config.severity.value,  # FailureSeverity, a str enum
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
    return Validation(table, snapshot, frame.height, outcomes, gx_result=result.to_json_dict())


def _short(value: object, limit: int = 120) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"
