"""Quality gate on a real raw landing of one sample snapshot.

One snapshot is landed offline and the four tables are built once per module; tests
that change the lake work on a copy of that data directory. Every blocking expectation
of every suite is shown to fail on a crafted bad partition and to pass on the good one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines.lake import Lake
from pipelines.normalisation import gate, normalize, normalizers, tables
from pipelines.normalisation.gate import GateResult, run_gate
from pipelines.normalisation.normalize import Normalized
from pipelines.partitions import scope_key
from pipelines.quality import contracts, suites
from pipelines.quality.report import write_quality_report
from sources import ingest
from sources.config import BUND_ARS, PILOT_ARS, Settings
from sources.landing import SnapshotLanding
from sources.sample.generator import build_universe

# The third sample snapshot: its defects include two unrepairable kinds and one repairable.
SNAPSHOT = date(2026, 2, 1)
LAND = "06"
TABLES = ("gebiete", "leistungen", "verfuegbarkeit", "onlinedienste")
BANNER = "Beispieldaten – synthetisch, keine amtlichen Zahlen"

# great-expectations warns on every regex with a group (format_ags): noise, not a finding.
pytestmark = pytest.mark.filterwarnings("ignore:This pattern is interpreted as a regular")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _landing(settings: Settings, source: str) -> SnapshotLanding:
    return SnapshotLanding(settings.raw_root(source), source, SNAPSHOT.isoformat(), mode="sample")


@dataclass(frozen=True)
class Built:
    settings: Settings
    results: dict[str, GateResult]

    @property
    def lake(self) -> Lake:
        return Lake(self.settings.data_dir, self.settings.land)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Raw landing of one sample snapshot (offline replay) and the four gated tables."""
    settings = Settings(mode="sample", data_dir=tmp_path_factory.mktemp("lake"))
    ingest.land_destatis(settings, SNAPSHOT)
    gv100ad = ingest.read_gv100ad(_landing(settings, "destatis_gv100ad"))
    ingest.land_dashboard(settings, SNAPSHOT, ingest.query_ars(gv100ad, LAND))
    ingest.land_pvog(settings, SNAPSHOT)
    ingest.land_fim(settings, SNAPSHOT)
    results = {table: tables.BUILDERS[table](settings, SNAPSHOT) for table in TABLES}
    return Built(settings, results)


@pytest.fixture
def lake_copy(built: Built, tmp_path: Path) -> Lake:
    """A private copy of the built data directory, for tests that change the lake."""
    target = tmp_path / "data"
    shutil.copytree(built.settings.data_dir, target)
    return Lake(target, "06")


def _partition_bytes(lake: Lake) -> dict[str, bytes]:
    files = {f"normalized/{t}": lake.partition(t, SNAPSHOT) for t in TABLES}
    files |= {f"quarantine/{t}": lake.quarantine(t, SNAPSHOT) for t in TABLES}
    return {name: path.read_bytes() for name, path in files.items()}


# -- the sample passes ------------------------------------------------------------------
def test_sample_tables_build_and_pass_their_gates(built: Built) -> None:
    for table in TABLES:
        result = built.results[table]
        assert result.promoted, result.validation.summary()
        assert result.validation.passed and not result.validation.blocking_failures
        promoted = built.lake.partition(table, SNAPSHOT)
        assert Path(result.path) == promoted and promoted.is_file()
        assert not built.lake.staging(table, SNAPSHOT).exists()
        frame = pl.read_parquet(promoted)
        assert frame.height == result.rows > 0
        assert frame.schema == contracts.SCHEMAS[table]
        assert frame["sample"].all()
        assert result.quarantined == pl.read_parquet(built.lake.quarantine(table, SNAPSHOT)).height
        document = json.loads(built.lake.validation_path(table, SNAPSHOT).read_text())
        assert document["passed"] is True and document["rows"] == result.rows


def test_the_great_expectations_result_is_stored_next_to_the_summary(built: Built) -> None:
    html = (built.lake.quality_dir() / "report.html").read_text(encoding="utf-8")
    for table in TABLES:
        summary_path = built.lake.validation_path(table, SNAPSHOT)
        gx_path = gate.gx_result_path(built.lake, table, SNAPSHOT)
        assert gx_path.parent == summary_path.parent and gx_path.name.endswith(".gx.json")
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        result = json.loads(gx_path.read_text(encoding="utf-8"))
        assert summary["gx_result"] == gx_path.name and gx_path.name in html
        assert result["statistics"]["evaluated_expectations"] == len(summary["outcomes"])
        by_id = {r["expectation_config"]["meta"]["id"]: r for r in result["results"]}
        assert set(by_id) == {o["id"] for o in summary["outcomes"]}
        for outcome in summary["outcomes"]:
            # great-expectations' native severity decides blocking vs warning.
            assert by_id[outcome["id"]]["expectation_config"]["severity"] == outcome["severity"]
            assert by_id[outcome["id"]]["success"] is outcome["success"]


def _defects(settings: Settings) -> pl.DataFrame:
    return build_universe(settings.sample_seed).defects().filter(pl.col("snapshot") == SNAPSHOT)


def _raw_dashboard(settings: Settings) -> pl.DataFrame:
    return ingest.read_dashboard(_landing(settings, "dashboard"))


def test_quarantine_accounts_for_every_unrepairable_defect(built: Built) -> None:
    defects = _defects(built.settings).filter(~pl.col("repairable"))
    assert defects.height >= 2
    quarantine = pl.read_parquet(built.lake.quarantine("verfuegbarkeit", SNAPSHOT))
    records = [json.loads(r) for r in quarantine["record"]]
    expected_reason = {
        "leika_key_malformed": "leika_invalid",
        "ars_unknown": "ars_not_in_gebietsstand",
        "online_status_unknown": "enum_invalid",
    }
    explained: set[int] = set()
    for defect in defects.iter_rows(named=True):
        hits = [
            i
            for i, record in enumerate(records)
            if record["leika_key"] == defect["leika_key"]
            and record[defect["field"]] == defect["value"]
            and f"export_{defect['query_ars']}_own.csv record " in quarantine["record_ref"][i]
        ]
        assert hits, f"defect not in quarantine: {defect}"
        for i in hits:
            assert quarantine["reason_code"][i] == expected_reason[defect["kind"]]
            assert defect["value"] in quarantine["message"][i]
        explained.update(hits)
    # Injected exact duplicates are repairable: their second copy is quarantined as such.
    copies = _defects(built.settings).filter(pl.col("kind") == "duplicate_record")
    for defect in copies.iter_rows(named=True):
        hits = [
            i
            for i, record in enumerate(records)
            if quarantine["reason_code"][i] == "duplicate"
            and record["leika_key"] == defect["leika_key"]
            and record["query_ars"] == defect["query_ars"]
        ]
        assert hits, f"duplicate not in quarantine: {defect}"
        explained.update(hits)
    # Nothing else was quarantined: the rest of the sample is clean.
    assert explained == set(range(quarantine.height))


def test_every_repairable_defect_is_repaired(built: Built) -> None:
    defects = _defects(built.settings).filter(pl.col("repairable"))
    assert defects.height >= 1
    raw = _raw_dashboard(built.settings)
    table = built.lake.read("verfuegbarkeit", SNAPSHOT)
    for defect in defects.iter_rows(named=True):
        own = raw.filter(
            (pl.col("query_ars") == defect["query_ars"]) & ~pl.col("include_above")
        ).filter(pl.col("leika_key") == defect["leika_key"])
        if defect["kind"] == "duplicate_record":
            kept = table.filter(
                (pl.col("query_ars") == defect["query_ars"])
                & (pl.col("query_scope") == "own")
                & (pl.col("leika_key") == defect["leika_key"])
            )
            assert own.height == 2 * kept.height >= 2
            continue
        emitted = own.filter(pl.col(defect["field"]) == defect["value"])
        assert emitted.height == 1, f"defect not in the raw landing: {defect}"
        lineage = emitted.select("raw_file", "record_index")
        repaired = table.join(lineage, on=["raw_file", "record_index"], how="semi")
        assert repaired.height == 1, f"repairable defect lost: {defect}"
        value = repaired[defect["field"]][0]
        if defect["kind"] == "ars_leading_zero_lost":
            assert value == "0" + defect["value"] == defect["query_ars"]
        elif defect["kind"] in ("whitespace", "unicode_nfd"):
            assert value == " ".join(unicodedata.normalize("NFC", defect["value"]).split())
        elif defect["kind"] == "enum_case":
            assert value == "ok"
        else:
            pytest.fail(f"unknown repairable defect kind {defect['kind']}")


# -- every blocking expectation can fail --------------------------------------------------
def _blocking_ids(table: str) -> list[str]:
    suite = suites.load_suite(table, LAND)
    return [e["meta"]["id"] for e in suite["expectations"] if e["severity"] == suites.CRITICAL]


BLOCKING = [(table, id_) for table in TABLES for id_ in _blocking_ids(table)]
# Availability is checked on the rows of a few queries (validation time grows with the
# frame); gebiete stays whole, since its suite requires 10,000+ rows.
SUBSET_QUERIES = sorted({BUND_ARS, "060000000000", *PILOT_ARS})


@dataclass(frozen=True)
class Case:
    frame: pl.DataFrame
    parameters: dict[str, Any]
    row: int  # a row whose change cannot touch cross-row expectations


@pytest.fixture(scope="module")
def good(built: Built) -> dict[str, Case]:
    lake = built.lake
    gv100ad = ingest.read_gv100ad(_landing(built.settings, "destatis_gv100ad"))
    hessen = gv100ad.filter(pl.col("land") == LAND)
    bounds = {"min_rows_vs_previous": 0, "max_rows_vs_previous": None}
    gebiete = lake.read("gebiete", SNAPSHOT)
    leistungen = lake.read("leistungen", SNAPSHOT)
    verfuegbarkeit = lake.read("verfuegbarkeit", SNAPSHOT).filter(
        pl.col("query_ars").is_in(SUBSET_QUERIES)
    )
    onlinedienste = lake.read("onlinedienste", SNAPSHOT)
    outside = gebiete.with_row_index().filter(
        (pl.col("land") != LAND) & (pl.col("ebene") == "Gemeinde")
    )["index"][0]
    return {
        "gebiete": Case(
            gebiete,
            {
                **bounds,
                "required_ars": sorted(
                    set(hessen.filter(pl.col("satzart").is_in(["40", "60"]))["ars"])
                ),
                "land_population": sum(
                    hessen.filter(pl.col("satzart") == "60")["bevoelkerung"].to_list()
                ),
            },
            int(outside),
        ),
        "leistungen": Case(leistungen, bounds, 0),
        "verfuegbarkeit": Case(
            verfuegbarkeit,
            {
                **bounds,
                "known_ars": sorted(
                    {BUND_ARS, *gebiete.filter(pl.col("land") == LAND)["ars"].to_list()}
                ),
                "known_leika": sorted(set(verfuegbarkeit["leika_key"])),
                "required_query_ars": SUBSET_QUERIES,
            },
            0,
        ),
        "onlinedienste": Case(
            onlinedienste, {**bounds, "known_leika": leistungen["leika_key"].to_list()}, 0
        ),
    }


@pytest.fixture(scope="module")
def good_validations(good: dict[str, Case]) -> dict[str, suites.Validation]:
    return {
        table: suites.validate(table, case.frame, SNAPSHOT.isoformat(), case.parameters, land=LAND)
        for table, case in good.items()
    }


def _set(frame: pl.DataFrame, row: int, column: str, value: object) -> pl.DataFrame:
    dtype = frame.schema[column]
    return frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row)
        .then(pl.lit(value, dtype=dtype))
        .otherwise(pl.col(column))
        .alias(column)
    )


def _break_regex(value: str) -> str:
    return value[:-1] + "X"


def _wrong_type(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    dtype = frame.schema[column]
    if dtype == pl.String:
        # Same values, other type: regex, set and null checks still see the strings.
        return frame.with_columns(pl.col(column).cast(pl.Categorical))
    if dtype.is_integer():
        return frame.with_columns(pl.col(column).cast(pl.Float64))
    if dtype in (pl.Date, pl.Boolean) or isinstance(dtype, pl.Datetime):
        return frame.with_columns(pl.col(column).cast(pl.String))
    raise AssertionError(f"no wrong type for {column}: {dtype}")


def _corrupt(table: str, id_: str, case: Case) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The good partition with one minimal change that violates exactly ``id_``."""
    frame, params, row = case.frame, dict(case.parameters), case.row
    if id_ == "columns":
        names = frame.columns
        return frame.select([*names[:-2], names[-1], names[-2]]), params
    if id_.startswith("type_"):
        return _wrong_type(frame, id_.removeprefix("type_")), params
    if id_.startswith("not_null_"):
        return _set(frame, row, id_.removeprefix("not_null_"), None), params
    if id_.startswith("format_"):
        column = id_.removeprefix("format_")
        bad = _break_regex(frame[column][row])
        # Keep the value in the known sets, so only the format is wrong.
        known = {"ars": "known_ars", "leika_key": "known_leika"}.get(column)
        if known in params:
            params[known] = [*params[known], bad]
        return _set(frame, row, column, bad), params
    if id_ == "unique_grain":
        return pl.concat([frame, frame.slice(row, 1)]), params
    if id_ == "rows_vs_previous":
        # The previous snapshot had more rows than this one may lose.
        return frame, {**params, "min_rows_vs_previous": frame.height + 1}
    specific: dict[tuple[str, str], Callable[[], tuple[pl.DataFrame, dict[str, Any]]]] = {
        ("gebiete", "rows_within_bounds"): lambda: (
            frame.filter(pl.col("land") == LAND),
            params,
        ),
        ("gebiete", "ebene_closed_set"): lambda: (_set(frame, row, "ebene", "Ortsteil"), params),
        ("gebiete", "gebietstyp_closed_set"): lambda: (
            _set(frame, row, "gebietstyp", "Stadtteil"),
            params,
        ),
        ("gebiete", "population_non_negative"): lambda: (
            _set(frame, row, "bevoelkerung", -1),
            params,
        ),
        ("gebiete", "coverage_land"): lambda: (
            # The Rheingau-Taunus-Kreis record is missing (its Gemeinden are still there).
            frame.filter(~((pl.col("ars") == "064390000000") & (pl.col("ebene") == "Kreis"))),
            params,
        ),
        ("gebiete", "population_total_land"): lambda: (
            frame.with_columns(
                pl.when((pl.col("ars") == "064360005005") & (pl.col("ebene") == "Gemeinde"))
                .then(pl.col("bevoelkerung") + 1)
                .otherwise(pl.col("bevoelkerung"))
            ),
            params,
        ),
        ("leistungen", "rows_within_bounds"): lambda: (frame.head(49), params),
        ("leistungen", "source_closed_set"): lambda: (
            _set(frame, row, "source", "wikipedia"),
            params,
        ),
        ("verfuegbarkeit", "rows_within_bounds"): lambda: (
            frame.clear(),
            {**params, "required_query_ars": []},
        ),
        ("verfuegbarkeit", "query_scope_closed_set"): lambda: (
            _set(frame, row, "query_scope", "both"),
            params,
        ),
        ("verfuegbarkeit", "online_status_closed_set"): lambda: (
            _set(frame, row, "online_status", "unbekannt"),
            params,
        ),
        ("verfuegbarkeit", "flaechendeckung_closed_set"): lambda: (
            _set(frame, row, "art_flaechendeckung", "Landesweit flächendeckend"),
            params,
        ),
        ("verfuegbarkeit", "anbieter_ebene_closed_set"): lambda: (
            _set(frame, row, "anbieter_ebene", "Ortsteil"),
            params,
        ),
        ("verfuegbarkeit", "ars_in_gebiete"): lambda: (
            _set(frame, row, "ars", "069990000000"),
            params,
        ),
        ("verfuegbarkeit", "leika_in_leistungen"): lambda: (
            _set(frame, row, "leika_key", "99000000000001"),
            params,
        ),
        ("verfuegbarkeit", "coverage_queries"): lambda: (
            # Hattersheim's query did not answer.
            frame.filter(pl.col("query_ars") != "064360005005"),
            params,
        ),
        ("onlinedienste", "rows_within_bounds"): lambda: (frame.clear(), params),
        ("onlinedienste", "leika_in_leistungen"): lambda: (
            _set(frame, row, "leika_key", "99000000000001"),
            params,
        ),
    }
    if (table, id_) not in specific:
        raise AssertionError(f"no corruption crafted for {table}.{id_}: add one")
    return specific[(table, id_)]()


@pytest.mark.parametrize(("table", "id_"), BLOCKING, ids=[f"{t}.{i}" for t, i in BLOCKING])
def test_blocking_expectation_fails_on_a_crafted_bad_partition(
    good: dict[str, Case],
    good_validations: dict[str, suites.Validation],
    monkeypatch: pytest.MonkeyPatch,
    table: str,
    id_: str,
) -> None:
    before = good_validations[table]
    assert before.passed, before.summary()
    assert next(o for o in before.outcomes if o.id == id_).success
    frame, parameters = _corrupt(table, id_, good[table])
    # The bad partition is checked against this one expectation of the suite file: a full
    # suite costs ~1 s per run with great-expectations, too slow for 130 cases.
    load_suite = suites.load_suite

    def only_this(name: str, land: str = LAND) -> dict[str, Any]:
        suite = load_suite(name, land)
        return {
            **suite,
            "expectations": [e for e in suite["expectations"] if e["meta"]["id"] == id_],
        }

    monkeypatch.setattr(suites, "load_suite", only_this)
    validation = suites.validate(table, frame, SNAPSHOT.isoformat(), parameters, land=LAND)
    (outcome,) = validation.outcomes
    assert outcome.id == id_
    assert not outcome.success and outcome.blocking
    assert outcome.error is None, outcome.error
    assert not validation.passed and validation.blocking_failures == [outcome]
    assert id_ in validation.summary()


# Changes across rows or of the table shape could disturb other expectations too, so these
# bad partitions are also run against the whole suite. (Per-column type, null and format
# changes touch one column's check; running all 130 cases in full takes about two minutes.)
WHOLE_SUITE = [(t, i) for t, i in BLOCKING if not i.startswith(("type_", "not_null_", "format_"))]


@pytest.mark.parametrize(("table", "id_"), WHOLE_SUITE, ids=[f"{t}.{i}" for t, i in WHOLE_SUITE])
def test_table_level_corruption_violates_nothing_else(
    good: dict[str, Case], table: str, id_: str
) -> None:
    frame, parameters = _corrupt(table, id_, good[table])
    validation = suites.validate(table, frame, SNAPSHOT.isoformat(), parameters, land=LAND)
    assert [o.id for o in validation.blocking_failures] == [id_]


def test_corrupting_values_are_really_unknown(good: dict[str, Case]) -> None:
    assert "069990000000" not in good["verfuegbarkeit"].parameters["known_ars"]
    assert "99000000000001" not in good["onlinedienste"].parameters["known_leika"]
    assert "99000000000001" not in good["verfuegbarkeit"].parameters["known_leika"]


def test_known_values_that_occur_give_the_verdict_of_every_known_value(
    good: dict[str, Case],
) -> None:
    """tables.known_among shrinks the value sets of the membership checks to the known
    values the column holds: on a partition with an unknown ARS and an unknown LeiKa key
    every outcome (success, unexpected count and values) is the one of the full sets."""
    case = good["verfuegbarkeit"]
    frame = _set(_set(case.frame, 0, "ars", "069990000000"), 1, "leika_key", "99000000000001")
    full = {
        **case.parameters,
        "known_ars": sorted({BUND_ARS, *good["gebiete"].frame["ars"]}),
        "known_leika": sorted(set(good["leistungen"].frame["leika_key"])),
    }
    shrunk = {
        **full,
        "known_ars": tables.known_among(full["known_ars"], frame["ars"]),
        "known_leika": tables.known_among(full["known_leika"], frame["leika_key"]),
    }
    assert len(shrunk["known_ars"]) < len(full["known_ars"]) / 10

    def verdicts(parameters: dict[str, Any]) -> list[tuple[object, ...]]:
        validation = suites.validate(
            "verfuegbarkeit", frame, SNAPSHOT.isoformat(), parameters, land=LAND
        )
        return [
            (o.id, o.success, o.unexpected_count, tuple(o.unexpected_sample))
            for o in validation.outcomes
        ]

    with_full, with_shrunk = verdicts(full), verdicts(shrunk)
    assert with_shrunk == with_full
    failed = {o[0]: o for o in with_full if not o[1]}
    assert failed["ars_in_gebiete"][2:] == (1, ("069990000000",))
    assert failed["leika_in_leistungen"][2:] == (1, ("99000000000001",))


# -- a failed gate leaves the promoted partition alone --------------------------------
def _report_row(html: str, table: str, id_: str) -> str:
    """The report's row of expectation ``id_`` in the details of ``table``."""
    section = html.split(f"<summary>{table}:", 1)[1].split("</details>", 1)[0]
    match = re.search(rf"<tr><td><code>{re.escape(id_)}</code></td>.*?</tr>", section, re.S)
    assert match, f"{id_} not listed for {table}"
    return match.group(0)


def test_failed_gate_keeps_the_promoted_partition_byte_identical(lake_copy: Lake) -> None:
    lake = lake_copy
    promoted = lake.partition("leistungen", SNAPSHOT)
    before_bytes, before_sha = promoted.read_bytes(), _sha256(promoted)
    good_frame = pl.read_parquet(promoted)
    bad = good_frame.with_columns(
        pl.when(pl.int_range(pl.len()) < 3)
        .then(pl.col("leika_key").str.slice(0, 13) + "X")
        .otherwise(pl.col("leika_key"))
        .alias("leika_key")
    )
    broken_keys = bad["leika_key"].head(3).to_list()
    promoted_quarantine = lake.quarantine("leistungen", SNAPSHOT)
    quarantine_before = promoted_quarantine.read_bytes()
    attempt_quarantine = pl.DataFrame(
        [
            {
                "table": "leistungen",
                "snapshot": SNAPSHOT,
                "reason_code": "leika_invalid",
                "message": "crafted",
                "source": "fim",
                "raw_file": "x",
                "raw_sha256": "0" * 64,
                "record_ref": "x item 1",
                "record": "{}",
                "sample": True,
            }
        ],
        schema=normalize.QUARANTINE_SCHEMA,
    )
    result = run_gate(
        lake,
        "leistungen",
        SNAPSHOT,
        Normalized(bad, attempt_quarantine),
        {},
        land=LAND,
    )
    assert not result.promoted
    assert promoted.read_bytes() == before_bytes and _sha256(promoted) == before_sha
    # The quarantine of the rejected attempt goes with it; the promoted one is untouched.
    assert promoted_quarantine.read_bytes() == quarantine_before
    rejected_dir = lake.normalized / "_rejected" / "leistungen" / "land=06" / f"snapshot={SNAPSHOT}"
    rejected_quarantine = rejected_dir / "quarantine.parquet"
    assert pl.read_parquet(rejected_quarantine)["message"].to_list() == ["crafted"]
    rejected = rejected_dir / "data.parquet"
    assert Path(result.path) == rejected
    assert pl.read_parquet(rejected).equals(bad)
    assert not lake.staging("leistungen", SNAPSHOT).exists()
    summary = result.validation.summary()
    assert "format_leika_key" in summary and "blocking" in summary
    assert any(key in summary for key in broken_keys)
    assert [o.id for o in result.validation.blocking_failures] == ["format_leika_key"]

    report = write_quality_report(lake)  # as the builders do after every gate
    assert report == lake.quality_dir() / "report.html"
    html = report.read_text(encoding="utf-8")
    assert BANNER in html
    row = _report_row(html, "leistungen", "format_leika_key")
    assert "verletzt" in row and broken_keys[0] in row
    assert "bestanden" in _report_row(html, "leistungen", "unique_grain")
    assert "blockiert" in html


def test_the_report_shows_the_gate_passed_before_the_failure(built: Built) -> None:
    html = (built.lake.quality_dir() / "report.html").read_text(encoding="utf-8")
    assert BANNER in html
    assert "bestanden" in _report_row(html, "leistungen", "format_leika_key")
    assert "blockiert" not in html


def test_warnings_do_not_block(lake_copy: Lake, built: Built) -> None:
    lake = lake_copy
    frame = pl.read_parquet(lake.partition("onlinedienste", SNAPSHOT))
    changed = _set(frame, 0, "link", "ftp://onlinedienst.example/legacy")
    known = built.lake.read("leistungen", SNAPSHOT)["leika_key"].to_list()
    result = run_gate(
        lake,
        "onlinedienste",
        SNAPSHOT,
        Normalized(changed, normalize.QUARANTINE_SCHEMA.to_frame()),
        {"known_leika": known},
        land=LAND,
    )
    assert result.promoted and result.validation.passed
    assert [o.id for o in result.validation.warnings] == ["format_link"]
    assert "ftp://onlinedienst.example/legacy" in result.validation.warnings[0].unexpected_sample
    assert pl.read_parquet(lake.partition("onlinedienste", SNAPSHOT)).equals(changed)


# -- idempotency --------------------------------------------------------------------------
def test_rebuilding_a_snapshot_is_byte_identical(built: Built, lake_copy: Lake) -> None:
    before = _partition_bytes(lake_copy)
    settings = replace(built.settings, data_dir=lake_copy.data_dir)
    for table in TABLES:
        assert tables.BUILDERS[table](settings, SNAPSHOT).promoted
    after = _partition_bytes(lake_copy)
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == before[name], f"{name} changed on re-run"
    assert _partition_bytes(built.lake) == before


# -- Dagster -------------------------------------------------------------------------------
@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """OzgSettings reads OZG_* variables; the run must not depend on the caller's shell."""
    for name in [n for n in os.environ if n.startswith("OZG_")]:
        monkeypatch.delenv(name)


@pytest.mark.slow  # a whole Dagster job (the ingest job of one partition)
def test_dagster_run_fails_on_a_blocked_gate(
    lake_copy: Lake, monkeypatch: pytest.MonkeyPatch, clean_env: None
) -> None:
    import dagster as dg

    from pipelines.definitions import build_definitions
    from pipelines.jobs import INGEST_JOB
    from sources.config import Settings

    promoted = lake_copy.partition("leistungen", SNAPSHOT)
    before_bytes, before_sha = promoted.read_bytes(), _sha256(promoted)
    downstream_before = {
        t: lake_copy.partition(t, SNAPSHOT).read_bytes()
        for t in ("verfuegbarkeit", "onlinedienste")
    }
    original = normalizers.leistungen.normalize_leistungen

    def duplicating(*args: Any, **kwargs: Any) -> Normalized:
        # A normaliser bug: one Leistung twice. Only the gate can stop it.
        result = original(*args, **kwargs)
        return Normalized(pl.concat([result.table, result.table.head(1)]), result.quarantine)

    monkeypatch.setattr(normalizers.leistungen, "normalize_leistungen", duplicating)
    # The assets skip partitions whose inputs are unchanged; this run must really rebuild.
    for marker in lake_copy.normalized.rglob(tables.FINGERPRINT):
        marker.unlink()
    settings = Settings(mode="sample", data_dir=lake_copy.data_dir)
    ingest = build_definitions(settings, step_retries=False).resolve_job_def(INGEST_JOB)
    run = ingest.execute_in_process(
        partition_key=scope_key("06", SNAPSHOT),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not run.success
    checks = {e.check_name: e for e in run.get_asset_check_evaluations()}
    gate = checks["leistungen_gate"]
    assert gate.passed is False
    assert gate.asset_key == dg.AssetKey(["normalized", "leistungen"])
    assert "unique_grain" in gate.metadata["failed"].value
    assert checks["gebiete_gate"].passed is True
    materialized = {e.asset_key for e in run.get_asset_materialization_events()}
    assert dg.AssetKey(["normalized", "gebiete"]) in materialized
    # The Land's raw landings; GV100AD and FIM are the nationwide job's (pipelines/jobs.py).
    assert {dg.AssetKey(["raw", s]) for s in ("dashboard", "pvog")} <= materialized
    assert not {dg.AssetKey(["raw", s]) for s in ("destatis_gv100ad", "fim")} & materialized
    for table in ("leistungen", "verfuegbarkeit", "onlinedienste"):
        assert dg.AssetKey(["normalized", table]) not in materialized
    # Downstream of the blocked table nothing ran, so no check was evaluated either.
    assert "verfuegbarkeit_gate" not in checks and "onlinedienste_gate" not in checks
    assert run.get_failed_step_keys() == {"normalized__leistungen"}
    started = {e.step_key for e in run.all_events if e.event_type == dg.DagsterEventType.STEP_START}
    assert "normalized__gebiete" in started
    assert started.isdisjoint({"normalized__verfuegbarkeit", "normalized__onlinedienste"})

    assert promoted.read_bytes() == before_bytes and _sha256(promoted) == before_sha
    for table, content in downstream_before.items():
        assert lake_copy.partition(table, SNAPSHOT).read_bytes() == content
    rejected = (
        lake_copy.normalized / "_rejected" / "leistungen" / "land=06" / f"snapshot={SNAPSHOT}"
    )
    assert (rejected / "data.parquet").is_file()
    html = (lake_copy.quality_dir() / "report.html").read_text(encoding="utf-8")
    assert "verletzt" in _report_row(html, "leistungen", "unique_grain")
