"""The normalisation of ``verfuegbarkeit`` three ways, on the same landed raw files.

* ``polars`` — the project's normaliser exactly as ``tables.build_verfuegbarkeit`` calls it:
  ``ingest.read_dashboard`` (every body inflated and checked against its manifest sha256,
  parsed by the source's parser, unknown fields noted) and
  ``normalize_verfuegbarkeit(...).with_unknown_fields(...)``.
* ``duckdb`` — the engine reference: DuckDB reads the same gzip files natively
  (``read_csv`` with the declared wire columns for CSV exports, ``read_json`` for JSON pages)
  and builds the same typed table in SQL: the contract's columns and types, the same checks
  in the same order, the same repairs and the same duplicate rule, the rejected rows as a
  quarantine table (reason, raw file, record index).
* ``pandas`` — the baseline a user would write: ``pandas.read_csv`` / ``json`` +
  ``pandas.DataFrame`` per file, then the same rules with pandas string methods.

Neither yardstick verifies the raw files' checksums, records unknown fields or writes a
message and the JSON record of each quarantined row; the project's normaliser does all three.
After timing, the three results are compared: the same rows (all columns, after sorting)
and the same quarantine counts per reason. A difference is reported, since a ratio between
different results would mean nothing.

Validation is timed as the gate runs it: ``suites.validate`` on the normalised table with
the parameters ``tables.build_verfuegbarkeit`` and ``gate.previous_bounds`` give it.
"""

from __future__ import annotations

import gc
import gzip
import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.lake import Lake
from pipelines.normalisation import gate, rules, tables
from pipelines.normalisation.normalize import Normalized
from pipelines.normalisation.normalizers.verfuegbarkeit import normalize_verfuegbarkeit
from pipelines.quality import suites
from pipelines.quality.contracts import VERFUEGBARKEIT, duckdb_type
from sources import dashboard, ingest
from sources.config import BUND_ARS, Settings
from sources.contract import DriftLog
from sources.landing import SnapshotLanding

LAND = "06"
POLARS, DUCKDB, PANDAS, VALIDATION = "polars", "duckdb", "pandas", "validation"
IMPLEMENTATIONS = (POLARS, DUCKDB, PANDAS)
GRAIN = list(VERFUEGBARKEIT.partition_grain)


@dataclass(frozen=True)
class RawFile:
    path: str
    name: str
    query_ars: str
    include_above: bool
    sha256: str

    @property
    def format(self) -> str:
        return "json" if self.name.endswith(".json") else "csv"


@dataclass(frozen=True)
class Partition:
    """One landed Dashboard snapshot of Hessen and the promoted gebiete it is judged by."""

    snapshot: date
    raw_root: Path  # data/raw/land=06 of a run, or of the JSON landing
    gebiete: pl.DataFrame

    def landing(self) -> SnapshotLanding:
        return SnapshotLanding(self.raw_root, "dashboard", self.snapshot.isoformat(), mode="sample")


def raw_files(landing: SnapshotLanding) -> list[RawFile]:
    """The sealed data files of a landing, in the order ``ingest.read_dashboard`` reads them."""
    files = []
    for group in sorted(landing.groups()):
        if not group.startswith("data/"):
            continue
        _, ars, scope = group.split("/")
        for name in landing.groups()[group]["entries"]:  # type: ignore[union-attr]
            entry = landing.entry(name)
            assert entry is not None
            path = str(landing.dir / f"{name}.gz")
            files.append(RawFile(path, name, ars, scope == "above", entry.sha256))
    return files


# -- (a) the project's normaliser -----------------------------------------------------------
def run_polars(partition: Partition) -> Normalized:
    landing = partition.landing()
    drift = DriftLog("dashboard")
    # The pipeline parses a landing once per process; timed here is that parse, every time.
    ingest.forget_dashboard_reads()
    entries = ingest.read_dashboard(landing, drift=drift)
    return normalize_verfuegbarkeit(
        entries, partition.snapshot, partition.gebiete, sample=True
    ).with_unknown_fields("verfuegbarkeit", partition.snapshot, [drift], sample=True)


# -- (b) DuckDB, the engine reference -------------------------------------------------------
# Unicode White_Space, as polars' (Rust's) \s and strip_chars() know it; RE2's \s is ASCII.
WS = r"[\s\x{85}\p{Z}]"


def _sql_text(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _sql_strip(column: str) -> str:
    return f"regexp_replace({column}, '^{WS}+|{WS}+$', '', 'g')"


def _sql_collapsed(column: str) -> str:
    return f"trim(regexp_replace(nfc_normalize({column}), '{WS}+', ' ', 'g'))"


def _sql_clean_text(column: str) -> str:
    return f"nullif({_sql_collapsed(column)}, '')"


def _sql_enum(column: str, mapping: dict[str, object]) -> str:
    cases = " ".join(
        f"WHEN {_sql_text(k)} THEN {str(v).lower() if isinstance(v, bool) else _sql_text(v)}"
        for k, v in mapping.items()
    )
    return f"CASE lower({_sql_collapsed(column)}) {cases} END"


def _sql_repair_ars(raw: str) -> str:
    return f"""CASE
        WHEN NOT regexp_full_match({raw}, '[0-9]+') THEN NULL
        WHEN length({raw}) = 12 THEN {raw}
        WHEN length({raw}) = 11 AND regexp_matches({raw}, '^[1-9]') THEN '0' || {raw}
        WHEN length({raw}) = 1 AND {raw} <> '0' THEN '0' || {raw} || '0000000000'
        WHEN length({raw}) = 2 THEN {raw} || '0000000000'
        WHEN length({raw}) = 5 THEN {raw} || '0000000'
    END"""


def _sql_parse_date(text: str) -> str:
    iso = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"
    return f"""coalesce(
        CASE WHEN regexp_full_match({text}, '\\d{{4}}-\\d{{1,2}}-\\d{{1,2}}')
            THEN CAST(try_strptime({text}, '%Y-%m-%d') AS DATE) END,
        CASE WHEN regexp_full_match({text}, '\\d{{1,2}}\\.\\d{{1,2}}\\.\\d{{4}}')
            THEN CAST(try_strptime({text}, '%d.%m.%Y') AS DATE) END,
        CASE WHEN regexp_full_match({text}, '{iso}')
            THEN CAST(try_strptime(left({text}, 10), '%Y-%m-%d') AS DATE) END)"""


def _sql_ebene(ars: str) -> str:
    return f"""CASE WHEN {ars} = '{BUND_ARS}' THEN 'Bund'
        WHEN substr({ars}, 3) = '{"0" * 10}' THEN 'Land'
        WHEN substr({ars}, 4) = '{"0" * 9}' THEN 'Regierungsbezirk'
        WHEN substr({ars}, 6) = '{"0" * 7}' THEN 'Kreis'
        WHEN substr({ars}, 10) = '000' THEN 'Gemeindeverband'
        ELSE 'Gemeinde' END"""


def _sql_sources(files: Sequence[RawFile]) -> str:
    """One relation (filename, the wire fields as VARCHAR, record_index) over all files."""
    parts = []
    csv_files = [f.path for f in files if f.format == "csv"]
    json_files = [f.path for f in files if f.format == "json"]
    fields = ", ".join(dashboard.FIELDS)
    if csv_files:
        columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in dashboard.FIELDS) + "}"
        # The ordinal runs over all files in read order (insertion order is preserved):
        # minus the file's first it is the record index within the file.
        parts.append(f"""
            SELECT filename, {fields},
                ordinality - min(ordinality) OVER (PARTITION BY filename) AS record_index
            FROM read_csv({csv_files!r}, auto_detect = false, header = true, delim = ';',
                quote = '"', escape = '"', columns = {columns}, filename = true,
                hive_partitioning = false) WITH ORDINALITY""")
    if json_files:
        struct = "STRUCT(" + ", ".join(f"{c} VARCHAR" for c in dashboard.FIELDS) + ")[]"
        parts.append(f"""
            SELECT filename, {", ".join(f"r.{c} AS {c}" for c in dashboard.FIELDS)},
                i - 1 AS record_index
            FROM (SELECT filename, unnest(content) AS r, generate_subscripts(content, 1) AS i
                  FROM read_json({json_files!r}, columns = {{'content': '{struct}'}},
                      filename = true, hive_partitioning = false))""")
    return " UNION ALL ".join(parts)


def duckdb_statements(files: Sequence[RawFile], snapshot: date) -> list[str]:
    """The SQL of the reference; expects the relations ``files`` (path, raw_file,
    query_ars, include_above, raw_sha256) and ``known`` (ars) to be registered."""
    reason = f"""CASE
        WHEN _leika IS NULL OR NOT regexp_full_match(_leika, '99[0-9]{{12}}')
            THEN 'leika_invalid'
        WHEN _ars IS NULL THEN 'ars_invalid'
        WHEN _ars <> '{BUND_ARS}' AND NOT _known THEN '{rules.ARS_NOT_IN_GEBIETSSTAND}'
        WHEN _status IS NULL THEN 'enum_invalid'
        WHEN aktiv IS NOT NULL AND _aktiv IS NULL THEN 'enum_invalid'
        WHEN _coverage IS NULL THEN 'enum_invalid'
        WHEN datenstand_pvog_import IS NOT NULL AND _stand IS NULL THEN 'date_invalid'
    END"""
    selected = {
        "snapshot": f"DATE '{snapshot.isoformat()}'",
        "query_ars": "query_ars",
        "query_scope": "CASE WHEN include_above THEN 'above' ELSE 'own' END",
        "leika_key": "_leika",
        "leika_name": _sql_clean_text("leika_name"),
        "ars": "_ars",
        "ars_name": _sql_clean_text("ars_name"),
        "anbieter_ebene": _sql_ebene("_ars"),
        "ozg_id": "CAST(CAST(trim(ozgid) AS INTEGER) AS VARCHAR)",
        "ozg_bezeichnung": _sql_clean_text("ozg_bezeichnung"),
        "url": _sql_clean_text("url"),
        "online_status": "_status",
        "aktiv": "_aktiv",
        "art_flaechendeckung": "_coverage",
        "begruendung_nicht_beruecksichtigt": _sql_clean_text("begruendung_nicht_beruecksichtigt"),
        "datenstand": "_stand",
        "source": "'dashboard'",
        "raw_file": "raw_file",
        "raw_sha256": "raw_sha256",
        "record_index": "record_index",
        "sample": "true",
    }
    assert list(selected) == VERFUEGBARKEIT.columns
    typed = ", ".join(
        f"CAST({sql} AS {duckdb_type(VERFUEGBARKEIT.schema[name])}) AS {name}"
        for name, sql in selected.items()
    )
    return [
        f"""CREATE OR REPLACE TEMP TABLE judged AS
        WITH src AS ({_sql_sources(files)}),
        prepared AS (
            SELECT s.*, f.raw_file, f.query_ars, f.include_above, f.raw_sha256,
                {_sql_strip("leika_key")} AS _leika,
                {_sql_strip("ars")} AS _ars_raw,
                {_sql_enum("online_status", rules.ONLINE_STATUS)} AS _status,
                {_sql_enum("aktiv", rules.AKTIV)} AS _aktiv,
                {_sql_enum("art_flaechendeckung", rules.FLAECHENDECKUNG)} AS _coverage,
                {_sql_parse_date(_sql_strip("datenstand_pvog_import"))} AS _stand
            FROM src s JOIN files f ON s.filename = f.path),
        repaired AS (SELECT *, {_sql_repair_ars("_ars_raw")} AS _ars FROM prepared)
        SELECT r.*, k.ars IS NOT NULL AS _known, {reason} AS _reason
        FROM repaired r LEFT JOIN known k ON k.ars = r._ars""",
        f"""CREATE OR REPLACE TEMP TABLE ranked AS
        SELECT *, row_number() OVER (
            PARTITION BY {", ".join(GRAIN)}
            ORDER BY online_status <> 'ok', raw_file, record_index) AS _rank
        FROM (SELECT {typed} FROM judged WHERE _reason IS NULL)""",
        f"""CREATE OR REPLACE TABLE verfuegbarkeit AS
        SELECT {", ".join(VERFUEGBARKEIT.columns)} FROM ranked WHERE _rank = 1""",
        """CREATE OR REPLACE TABLE quarantine AS
        SELECT _reason AS reason_code, raw_file, record_index FROM judged
        WHERE _reason IS NOT NULL
        UNION ALL
        SELECT 'duplicate', raw_file, record_index FROM ranked WHERE _rank > 1""",
    ]


class DuckdbReference:
    """One in-memory DuckDB connection, reused for every partition (as a process would)."""

    def __init__(self) -> None:
        import duckdb

        self.con = duckdb.connect()

    def run(self, partition: Partition) -> None:
        landing = partition.landing()
        files = raw_files(landing)
        lineage = pl.DataFrame(
            {
                "path": [f.path for f in files],
                "raw_file": [f.name for f in files],
                "query_ars": [f.query_ars for f in files],
                "include_above": [f.include_above for f in files],
                "raw_sha256": [f.sha256 for f in files],
            }
        )
        known = partition.gebiete.select("ars").unique()
        self.con.register("files", lineage.to_arrow())
        self.con.register("known", known.to_arrow())
        for statement in duckdb_statements(files, partition.snapshot):
            self.con.execute(statement)

    def result(self) -> tuple[pl.DataFrame, dict[str, int]]:
        table = self.con.sql("SELECT * FROM verfuegbarkeit").pl().cast(dict(VERFUEGBARKEIT.schema))
        counts = self.con.sql(
            "SELECT reason_code, count(*) FROM quarantine GROUP BY ALL ORDER BY 1"
        ).fetchall()
        return table, {str(code): int(n) for code, n in counts}


# -- (c) pandas, the baseline ---------------------------------------------------------------
def run_pandas(partition: Partition) -> tuple[Any, dict[str, int]]:
    """Straightforward pandas: read each file into a DataFrame, concatenate, apply the
    rules with ``.str`` methods, keep the first row per grain."""
    import numpy as np
    import pandas as pd

    frames = []
    for f in raw_files(partition.landing()):
        if f.format == "csv":
            frame = pd.read_csv(
                f.path, sep=";", dtype=str, keep_default_na=False, na_values=[""]
            )  # gzip from the file name; a UTF-8 BOM is dropped
        else:
            with gzip.open(f.path, "rt", encoding="utf-8") as handle:
                frame = pd.DataFrame(json.load(handle)["content"], columns=list(dashboard.FIELDS))
        frame["query_ars"] = f.query_ars
        frame["include_above"] = f.include_above
        frame["raw_file"] = f.name
        frame["raw_sha256"] = f.sha256
        frame["record_index"] = np.arange(len(frame), dtype="int32")
        frames.append(frame)
    df = pd.concat(frames, ignore_index=True)

    def collapsed(s: pd.Series) -> pd.Series:
        return s.str.normalize("NFC").str.replace(r"\s+", " ", regex=True).str.strip()

    def clean(s: pd.Series) -> pd.Series:
        c = collapsed(s)
        return c.mask(c == "")

    def matches(s: pd.Series, pattern: str) -> pd.Series:
        return s.str.fullmatch(pattern).eq(True)

    leika = df["leika_key"].str.strip()
    raw_ars = df["ars"].str.strip()
    n = raw_ars.str.len()
    ars = pd.Series(
        np.select(
            [
                ~matches(raw_ars, "[0-9]+"),
                n == 12,
                (n == 11) & matches(raw_ars, "[1-9].*"),
                (n == 1) & (raw_ars != "0"),
                n == 2,
                n == 5,
            ],
            [
                None,
                raw_ars,
                "0" + raw_ars,
                "0" + raw_ars + "0" * 10,
                raw_ars + "0" * 10,
                raw_ars + "0" * 7,
            ],
            default=None,
        ),
        index=df.index,
        dtype=object,
    )
    status = collapsed(df["online_status"]).str.lower().map(rules.ONLINE_STATUS)
    aktiv = collapsed(df["aktiv"]).str.lower().map(rules.AKTIV)
    coverage = collapsed(df["art_flaechendeckung"]).str.lower().map(rules.FLAECHENDECKUNG)
    text = df["datenstand_pvog_import"].str.strip()
    iso = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"
    stand = (
        pd.to_datetime(
            text.where(matches(text, r"\d{4}-\d{1,2}-\d{1,2}")), format="%Y-%m-%d", errors="coerce"
        )
        .fillna(
            pd.to_datetime(
                text.where(matches(text, r"\d{1,2}\.\d{1,2}\.\d{4}")),
                format="%d.%m.%Y",
                errors="coerce",
            )
        )
        .fillna(
            pd.to_datetime(
                text.str.slice(0, 10).where(matches(text, iso)), format="%Y-%m-%d", errors="coerce"
            )
        )
    )
    known = set(partition.gebiete["ars"].to_list())
    reason = pd.Series(
        np.select(
            [
                leika.isna() | ~matches(leika, "99[0-9]{12}"),
                ars.isna(),
                (ars != BUND_ARS) & ~ars.isin(known),
                status.isna(),
                df["aktiv"].notna() & aktiv.isna(),
                coverage.isna(),
                df["datenstand_pvog_import"].notna() & stand.isna(),
            ],
            [
                "leika_invalid",
                "ars_invalid",
                rules.ARS_NOT_IN_GEBIETSSTAND,
                "enum_invalid",
                "enum_invalid",
                "enum_invalid",
                "date_invalid",
            ],
            default=None,
        ),
        index=df.index,
        dtype=object,
    )
    good = reason.isna()
    g_ars = ars[good]
    ebene = np.select(
        [
            g_ars == BUND_ARS,
            g_ars.str.slice(2) == "0" * 10,
            g_ars.str.slice(3) == "0" * 9,
            g_ars.str.slice(5) == "0" * 7,
            g_ars.str.slice(9) == "000",
        ],
        ["Bund", "Land", "Regierungsbezirk", "Kreis", "Gemeindeverband"],
        default="Gemeinde",
    )
    rows = df[good]
    table = pd.DataFrame(
        {
            "snapshot": pd.Timestamp(partition.snapshot),
            "query_ars": rows["query_ars"],
            "query_scope": np.where(rows["include_above"], "above", "own"),
            "leika_key": leika[good],
            "leika_name": clean(rows["leika_name"]),
            "ars": g_ars,
            "ars_name": clean(rows["ars_name"]),
            "anbieter_ebene": ebene,
            "ozg_id": pd.to_numeric(rows["ozgid"]).astype("Int64").astype("string"),
            "ozg_bezeichnung": clean(rows["ozg_bezeichnung"]),
            "url": clean(rows["url"]),
            "online_status": status[good],
            "aktiv": aktiv[good].astype("boolean"),
            "art_flaechendeckung": coverage[good],
            "begruendung_nicht_beruecksichtigt": clean(rows["begruendung_nicht_beruecksichtigt"]),
            "datenstand": stand[good],
            "source": "dashboard",
            "raw_file": rows["raw_file"],
            "raw_sha256": rows["raw_sha256"],
            "record_index": rows["record_index"],
            "sample": True,
        }
    )
    table["_not_ok"] = table["online_status"] != "ok"
    table = table.sort_values(["_not_ok", "raw_file", "record_index"], kind="stable")
    duplicated = table.duplicated(subset=GRAIN, keep="first")
    counts = reason[~good].value_counts().to_dict()
    if duplicated.any():
        counts["duplicate"] = int(duplicated.sum())
    return table[~duplicated].drop(columns="_not_ok"), {str(k): int(v) for k, v in counts.items()}


def pandas_to_polars(table: Any) -> pl.DataFrame:
    """The pandas result in the contract schema (for the comparison; not timed)."""
    frame = pl.from_pandas(table.reset_index(drop=True))
    return frame.with_columns(
        pl.col("snapshot").cast(pl.Date), pl.col("datenstand").cast(pl.Date)
    ).cast(dict(VERFUEGBARKEIT.schema))


# -- validation, as the gate runs it ----------------------------------------------------------
def validation_parameters(run_dir: Path, partition: Partition) -> dict[str, Any]:
    """The parameters ``tables.build_verfuegbarkeit`` and ``gate.run_gate`` pass to
    ``suites.validate`` for this partition of the run in ``run_dir`` (the same function,
    on the project's own normalisation of it)."""
    lake = Lake(run_dir, LAND)
    landing = partition.landing()
    parameters = tables.verfuegbarkeit_parameters(
        LAND,
        landing,
        ingest.read_dashboard(landing),
        run_polars(partition).table,
        partition.gebiete,
        lake.read("leistungen", partition.snapshot),
    )
    bounds = gate.previous_bounds(lake, "verfuegbarkeit", partition.snapshot)
    return {**parameters, **{k: v for k, v in bounds.items() if k != "previous_rows"}}


def run_validation(table: pl.DataFrame, snapshot: date, parameters: dict[str, Any]) -> None:
    validation = suites.validate(
        "verfuegbarkeit", table, snapshot.isoformat(), parameters, land=LAND
    )
    if not validation.passed:
        raise RuntimeError(validation.summary())


# -- the comparison -------------------------------------------------------------------------
@dataclass
class Comparison:
    """Seconds per repetition of each implementation over all partitions of one format."""

    format: str
    partitions: int
    rows: int = 0
    seconds: dict[str, list[float]] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)

    def median(self, what: str) -> float | None:
        values = self.seconds.get(what)
        return statistics.median(values) if values else None


def compare_tables(name: str, expected: pl.DataFrame, actual: pl.DataFrame) -> list[str]:
    """Differences between two normalised tables, order aside (empty: equal)."""
    if expected.schema != actual.schema:
        return [f"{name}: schema {dict(actual.schema)} != {dict(expected.schema)}"]
    key = ["raw_file", "record_index"]
    left, right = expected.sort(key), actual.sort(key)
    if left.height != right.height:
        return [f"{name}: {right.height:,} rows, the normaliser {left.height:,}"]
    columns = [c for c in left.columns if not left[c].equals(right[c], check_names=True)]
    if columns:
        where = (left[columns[0]] != right[columns[0]]) | (
            left[columns[0]].is_null() != right[columns[0]].is_null()
        )
        first = left.filter(where.fill_null(True)).head(1)
        other = right.filter(where.fill_null(True)).head(1)
        return [
            f"{name}: columns {columns} differ, e.g. {first.select(key + columns[:1]).rows()} "
            f"vs {other.select(key + columns[:1]).rows()}"
        ]
    return []


def _timed(run: Callable[[], object]) -> tuple[float, object]:
    gc.collect()
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def side_by_side(
    run_dir: Path,
    partitions_by_format: dict[str, list[Partition]],
    *,
    repeats: int = 3,
    echo: Callable[[str], None] = print,
) -> list[Comparison]:
    """Time the three implementations (and validation, on the CSV partitions) ``repeats``
    times, interleaved, after one untimed warm-up round; then compare their results."""
    reference = DuckdbReference()
    suites._gx()  # great-expectations' import and context: once, outside every timing
    comparisons = {f: Comparison(f, len(p)) for f, p in partitions_by_format.items()}
    parameters = {
        (p.raw_root, p.snapshot): validation_parameters(run_dir, p)
        for f, ps in partitions_by_format.items()
        for p in ps
        if f == "csv"
    }
    last: dict[tuple[str, str, date], object] = {}
    for repetition in range(repeats + 1):
        timed = repetition > 0
        for fmt, partitions in partitions_by_format.items():
            comparison = comparisons[fmt]
            totals = dict.fromkeys([*IMPLEMENTATIONS, VALIDATION], 0.0)
            for partition in partitions:
                seconds, normalized = _timed(lambda p=partition: run_polars(p))
                totals[POLARS] += seconds
                assert isinstance(normalized, Normalized)
                last[(fmt, POLARS, partition.snapshot)] = normalized
                if fmt == "csv":
                    params = parameters[(partition.raw_root, partition.snapshot)]
                    seconds, _ = _timed(
                        lambda n=normalized, p=partition, q=params: run_validation(
                            n.table, p.snapshot, q
                        )
                    )
                    totals[VALIDATION] += seconds
                seconds, _ = _timed(lambda p=partition: reference.run(p))
                totals[DUCKDB] += seconds
                last[(fmt, DUCKDB, partition.snapshot)] = reference.result()
                seconds, result = _timed(lambda p=partition: run_pandas(p))
                totals[PANDAS] += seconds
                last[(fmt, PANDAS, partition.snapshot)] = result
            if not timed:
                continue
            for what, seconds in totals.items():
                if what != VALIDATION or fmt == "csv":
                    comparison.seconds.setdefault(what, []).append(seconds)
            echo(
                f"    {fmt} repetition {repetition}/{repeats}: "
                + ", ".join(f"{w} {s:.2f}s" for w, s in totals.items() if s)
            )
    for fmt, partitions in partitions_by_format.items():
        comparison = comparisons[fmt]
        for partition in partitions:
            normalized = last[(fmt, POLARS, partition.snapshot)]
            assert isinstance(normalized, Normalized)
            comparison.rows += normalized.table.height + normalized.quarantine.height
            ref_table, ref_counts = last[(fmt, DUCKDB, partition.snapshot)]  # type: ignore[misc]
            pd_table, pd_counts = last[(fmt, PANDAS, partition.snapshot)]  # type: ignore[misc]
            label = f"{fmt} {partition.snapshot}"
            comparison.differences += compare_tables(f"duckdb {label}", normalized.table, ref_table)
            comparison.differences += compare_tables(
                f"pandas {label}", normalized.table, pandas_to_polars(pd_table)
            )
            for name, counts in (("duckdb", ref_counts), ("pandas", pd_counts)):
                if counts != normalized.reasons():
                    comparison.differences.append(
                        f"{name} {label}: quarantine {counts}, the normaliser "
                        f"{normalized.reasons()}"
                    )
    return list(comparisons.values())


def land_json_pages(run_dir: Path, root: Path, snapshots: Sequence[date]) -> Path:
    """Land the Dashboard of Hessen as JSON pages (``OZG_DASHBOARD_ENDPOINT=paged``) under
    ``root`` for ``snapshots``, queried for the ARS the run in ``run_dir`` queried;
    returns the raw root holding them."""
    settings = Settings(mode="sample", data_dir=root, dashboard_endpoint="paged")
    for snapshot in snapshots:
        gv100ad = ingest.read_gv100ad(
            SnapshotLanding(
                run_dir / "raw", "destatis_gv100ad", snapshot.isoformat(), mode="sample"
            )
        )
        ingest.land_dashboard(settings, snapshot, ingest.query_ars(gv100ad, LAND))
    return settings.raw_root("dashboard")


def partitions(run_dir: Path, raw_root: Path, snapshots: Sequence[date]) -> list[Partition]:
    lake = Lake(run_dir, LAND)
    return [Partition(s, raw_root, lake.read("gebiete", s)) for s in snapshots]
