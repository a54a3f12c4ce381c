"""Source contracts: what a parser demands, what it tolerates, and what it records.

Every wire-format parser checks its records against one declared contract
(``docs/contracts/README.md`` lists them with the evidence behind each decision):

* a **required** field that is missing fails the parse with the source's own error type,
  naming source, field, record and URL — meaning would be lost without it;
* a **typed** field accepts the variants the evidence shows (e.g. FIM ``ozg`` as object,
  list or null) and fails on anything else;
* an **unknown** field (additive drift: the API added something nobody announced) is *not*
  an error. The raw landing keeps the body as received; the parser notes the field in a
  :class:`DriftLog`, and the run reports it (asset metadata, the quality report and
  ``mart_datenqualitaet``) without stopping.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class UnknownField:
    """One field a source delivered that its contract does not declare."""

    source: str
    field: str  # dotted path for nested objects, e.g. "ozg.neues_feld"
    records: int  # how many records carried it
    first_record: str  # where it was first seen, e.g. "item 0 (leistungsschluessel 99…)"
    url: str  # the response that first carried it

    def describe(self) -> str:
        return (
            f"{self.source}: {self.field} ({self.records} Datensätze, zuerst {self.first_record})"
        )


UNKNOWN_FIELDS_SCHEMA = pl.Schema(
    {
        "source": pl.String,
        "field": pl.String,
        "records": pl.Int64,
        "first_record": pl.String,
        "url": pl.String,
    }
)


def _text(value: str) -> str:
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


class DriftLog:
    """Collects unknown fields of one source across pages (thread-safe: pages of one
    landing are parsed by a bounded thread pool)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._lock = threading.Lock()
        self._seen: dict[str, list[object]] = {}  # field -> [count, first_record, url]

    def note(self, field: str, record: str, url: str, count: int = 1) -> None:
        # A JSON key may be no text (a lone surrogate from a ``\\ud800`` escape): escape it,
        # so the field can be reported and written to Parquet.
        field, record, url = (_text(value) for value in (field, record, url))
        with self._lock:
            entry = self._seen.get(field)
            if entry is None:
                self._seen[field] = [count, record, url]
            else:
                entry[0] = int(entry[0]) + count  # type: ignore[call-overload]

    def note_unknown(
        self,
        record: dict[str, object],
        known: frozenset[str] | tuple[str, ...],
        where: str,
        url: str,
    ) -> None:
        """Note every key of ``record`` that is not in ``known``."""
        for name in record:
            if name not in known:
                self.note(name, where, url)

    def fields(self) -> list[UnknownField]:
        with self._lock:
            return [
                UnknownField(self.source, name, int(count), str(first), str(url))  # type: ignore[call-overload]
                for name, (count, first, url) in sorted(self._seen.items())
            ]

    def __bool__(self) -> bool:
        return bool(self._seen)

    def frame(self) -> pl.DataFrame:
        rows = [
            {
                "source": f.source,
                "field": f.field,
                "records": f.records,
                "first_record": f.first_record,
                "url": f.url,
            }
            for f in self.fields()
        ]
        return pl.DataFrame(rows, schema=UNKNOWN_FIELDS_SCHEMA)
