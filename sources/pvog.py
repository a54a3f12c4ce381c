"""PVOG Suchdienst: ``GET /v5/servicedescriptions/csv?ars=…`` client and parser.

Wire format (``docs/sources.md`` §2e; the embedded Bund export is a real
response): UTF-8 without BOM, LF, separator ``|``, one header line
``ID-LB|Leikaschlüssel|Name|Name2|Updatedatum|ID-OD|Bezeichnung OD|Links``, one row per
Leistung × Onlinedienst, 8 fields per line. Fields are never quoted, yet inner quotes
are doubled (``""``) and some fields start with ``""``; a standard CSV reader chokes on
them, so quoting is disabled and ``""`` is replaced by ``"`` afterwards.

Contract (``docs/contracts/pvog.md``):

* the request sends ``Accept: text/csv, */*;q=0.1`` (public harvesters send no Accept
  header and no client id; the export is served either way);
* the 8 header columns are required (a missing one fails, naming it); an unknown extra
  column is additive drift: noted in the caller's :class:`~sources.contract.DriftLog`
  and dropped, the known columns are still read by name;
* ``Updatedatum`` is a **batch import stamp** (the same ``20.01.2025 00:48`` on all 933
  rows of the Bund export), *not* the date a Leistung was last edited: never use it as
  per-Leistung freshness;
* demo instances carry test records whose ID-LB contains ``TEST``: :func:`is_test_record`
  recognises them (quarantined downstream); the real Bund export has none.
"""

from __future__ import annotations

import io
import re

import polars as pl
import requests

from sources.config import HttpSettings, redact
from sources.contract import DriftLog
from sources.http import Fetched, HttpClient, SourceError

SOURCE = "pvog"
CLIENT_ID_HEADER = "pvog-sud-api-client-id"

# wire header -> column name
COLUMNS: dict[str, str] = {
    "ID-LB": "id_lb",
    "Leikaschlüssel": "leika_key",
    "Name": "name",
    "Name2": "name2",
    "Updatedatum": "updatedatum",
    "ID-OD": "id_od",
    "Bezeichnung OD": "bezeichnung_od",
    "Links": "links",
}
SCHEMA = pl.Schema(
    {
        "id_lb": pl.String,
        "leika_key": pl.String,
        "name": pl.String,
        "name2": pl.String,
        "updatedatum": pl.Datetime("us"),
        "id_od": pl.String,
        "bezeichnung_od": pl.String,
        "links": pl.String,
        "line_number": pl.Int64,
    }
)
DELIMITER = "|"
UPDATEDATUM_SHAPE = r"^[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4} [0-9]{1,2}:[0-9]{2}$"
ACCEPT = "text/csv, */*;q=0.1"
# Test/demo records: an ID-LB containing TEST in any case. Real IDs look like
# ``B100019.LB.100372563`` (all 933 rows of the Bund export; none contains TEST). Only the
# ID is judged, never the name: "Nutzung der Testplattform BOS-Digitalfunk" is real.
TEST_ID_REGEX = r"(?i)test"  # usable as is in polars ``str.contains`` and DuckDB regexp
TEST_ID_PATTERN = re.compile(TEST_ID_REGEX)


def is_test_record(id_lb: str | None) -> bool:
    """Whether an ID-LB marks a test/demo record (``TEST`` anywhere, any case)."""
    return id_lb is not None and TEST_ID_PATTERN.search(id_lb) is not None


class PvogFormatError(ValueError):
    pass


def parse_csv(body: bytes, url: str = "", *, drift: DriftLog | None = None) -> pl.DataFrame:
    """Parse the pipe-delimited export; errors name the line and column. Unknown extra
    columns are noted in ``drift`` (when given) and dropped."""

    def fail(reason: str) -> PvogFormatError:
        return PvogFormatError(f"{SOURCE}: {reason}" + (f" ({url})" if url else ""))

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"body is not UTF-8 at byte {exc.start} (wrong encoding?)") from exc
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    header = lines[0].rstrip("\r").split(DELIMITER)
    if len(header) == 1:
        guess = next((d for d in (";", ",", "\t") if d in header[0]), None)
        hint = f"; the header looks {guess!r}-delimited" if guess else ""
        raise fail(f"header has no {DELIMITER!r} separator{hint}: {header[0][:80]!r}")
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise fail(f"missing column {missing[0]!r} in header")
    doubled = [c for c in COLUMNS if header.count(c) > 1]
    if doubled:
        raise fail(f"column {doubled[0]!r} appears twice in header")
    records = [(number, line) for number, line in enumerate(lines[1:], start=2) if line.strip()]
    for number, line in records:
        if line.rstrip("\r").count(DELIMITER) != len(header) - 1:
            raise fail(f"line {number}: {line.count(DELIMITER) + 1} fields, expected {len(header)}")
    # Only the record lines are read, by position and without polars' header handling: a
    # blank line is no row, every row keeps its line number, and no header name can clash
    # with polars' own names for duplicates.
    positions = [f"column_{index}" for index in range(len(header))]
    frame = (
        pl.read_csv(
            io.StringIO("\n".join(line for _, line in records)),
            separator=DELIMITER,
            quote_char=None,
            infer_schema=False,
            has_header=False,
            new_columns=positions,
        )
        if records
        else pl.DataFrame(schema=dict.fromkeys(positions, pl.String))
    )
    # Select by position, so an extra column (whatever its name) cannot disturb the rest.
    frame = frame.select(
        pl.col(positions[header.index(wire)]).alias(name) for wire, name in COLUMNS.items()
    ).with_columns(pl.Series("line_number", [n for n, _ in records], dtype=pl.Int64))
    if drift is not None:
        for position, column in enumerate(header, start=1):
            if column not in COLUMNS:
                drift.note(column, f"header, column {position}", url, count=frame.height)
    frame = frame.with_columns(
        pl.col(c).str.replace_all('""', '"', literal=True).str.strip_chars("\r")
        for c in COLUMNS.values()
    ).with_columns(pl.col(c).replace("", None) for c in COLUMNS.values())
    # The shape guard stops chrono's %Y from reading "20.01.25 00:48" as the year 25.
    stamp = pl.col("updatedatum")
    frame = frame.with_columns(
        pl.when(stamp.str.contains(UPDATEDATUM_SHAPE))
        .then(stamp.str.strptime(pl.Datetime("us"), "%d.%m.%Y %H:%M", strict=False))
        .alias("_stamp")
    )
    bad_dates = frame.filter(stamp.is_not_null() & pl.col("_stamp").is_null())
    if bad_dates.height:
        raise fail(
            f"line {bad_dates['line_number'][0]}: column 'Updatedatum' is not DD.MM.YYYY HH:MM "
            f"in {bad_dates.height} row(s), first: {bad_dates['updatedatum'][0]!r}"
        )
    return frame.with_columns(pl.col("_stamp").alias("updatedatum")).select(SCHEMA.names())


class PvogClient:
    def __init__(self, base_url: str, http: HttpClient, client_id: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.client_id = client_id

    @classmethod
    def create(
        cls,
        base_url: str,
        settings: HttpSettings,
        session: requests.Session | None = None,
        client_id: str = "",
    ) -> PvogClient:
        return cls(base_url, HttpClient(SOURCE, settings, session), client_id)

    def csv_url(self) -> str:
        return f"{self.base_url}/v5/servicedescriptions/csv"

    def fetch_csv(self, ars: str) -> Fetched:
        headers = {"Accept": ACCEPT}
        if self.client_id:
            headers[CLIENT_ID_HEADER] = self.client_id
        try:
            return self.http.get(self.csv_url(), params={"ars": ars}, headers=headers, expect="csv")
        except SourceError as exc:
            # An error page may echo the request ("unknown client id …"): the client id is a
            # secret and must not reach the run log, the failure record or the alert.
            reason = redact(exc.reason, (self.client_id,))
            if reason == exc.reason:
                raise
            raise SourceError(exc.source, redact(exc.url, (self.client_id,)), reason) from None
