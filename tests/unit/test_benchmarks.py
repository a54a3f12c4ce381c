"""The benchmark's own helpers (``benchmarks/``): TARGET lines, stage attribution of time
and memory, /proc parsing, the scaling exponent, and that the DuckDB reference and the
pandas baseline build the same table as the project's normaliser on planted edge cases.
Fast: no pipeline run."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from benchmarks import engines, procfs, report, stages
from benchmarks.pipeline_benchmark import (
    PYTHON,
    RunSpec,
    clean_environment,
    code_changed_since,
    failure_reason,
)
from benchmarks.report import Target, target_line
from sources import dashboard, ingest
from sources.contract import DriftLog
from sources.http import Fetched
from sources.landing import SnapshotLanding


# -- TARGET lines -----------------------------------------------------------------------------
def test_a_target_line_names_measured_goal_and_verdict() -> None:
    assert target_line(Target("germany_1_snapshot_s", 300, 241.26)) == (
        "TARGET germany_1_snapshot_s 241.3 300 met"
    )
    assert target_line(Target("hessen_12_snapshots_s", 90, 312.04)) == (
        "TARGET hessen_12_snapshots_s 312.0 90 missed"
    )
    assert target_line(Target("normalisation_vs_duckdb_x", 1.5, 1.234)) == (
        "TARGET normalisation_vs_duckdb_x 1.23 1.5 met"
    )


def test_an_at_least_target_is_met_from_the_goal_up() -> None:
    assert Target("pandas_vs_normalisation_x", 5, 5.0, at_least=True).met
    assert not Target("pandas_vs_normalisation_x", 5, 4.99, at_least=True).met
    assert Target("validation_share_pct", 25, 25.0).met


def test_an_unmeasured_target_is_missed_with_its_reason() -> None:
    target = Target("germany_1_snapshot_s", 300, note="unavailable: sample mode covers 06 only")
    assert not target.met
    assert target_line(target) == (
        "TARGET germany_1_snapshot_s n/a 300 missed (unavailable: sample mode covers 06 only)"
    )
    assert not Target("x", 1, float("nan")).met
    # The first five fields stay machine-readable whatever the note says.
    assert target_line(target).split()[:5] == [
        "TARGET",
        "germany_1_snapshot_s",
        "n/a",
        "300",
        "missed",
    ]


# -- stages -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "stage"),
    [
        ("raw__dashboard", stages.LANDING),
        ("raw__destatis_gv100ad", stages.LANDING),
        ("normalized__verfuegbarkeit", stages.NORMALISATION),
        ("ozg_dbt", stages.DBT),
        ("ozg_dbt_analyse", stages.DBT),
        ("analysis__rollout_survival", stages.DBT),
        ("docs__dbt_docs", stages.PUBLICATION),
        ("docs__metrikverzeichnis", stages.PUBLICATION),
        ("published__warehouse", stages.PUBLICATION),
        ("published__reports", stages.REPORTS),
        ("something_new", stages.OTHER),
    ],
)
def test_step_keys_map_to_stages(key: str, stage: str) -> None:
    assert stages.stage_of(key) == stage


def _intervals() -> list[stages.Interval]:
    return [
        stages.Interval(stages.LANDING, 10.0, 12.0, "raw__dashboard"),
        stages.Interval(stages.NORMALISATION, 12.0, 20.0, "normalized__verfuegbarkeit"),
        stages.Interval(stages.VALIDATION, 15.0, 18.0, "06__2026-11-01__verfuegbarkeit"),
        stages.Interval(stages.DBT, 25.0, 40.0, "ozg_dbt"),
    ]


def test_validation_is_carved_out_of_normalisation_and_the_rest_is_other() -> None:
    seconds = stages.stage_seconds(_intervals(), total=35.0)
    assert seconds[stages.LANDING] == 2.0
    assert seconds[stages.NORMALISATION] == 5.0
    assert seconds[stages.VALIDATION] == 3.0
    assert seconds[stages.DBT] == 15.0
    assert seconds[stages.OTHER] == 35.0 - 2.0 - 8.0 - 15.0
    assert sum(seconds.values()) == pytest.approx(35.0)


def test_rss_samples_go_to_the_innermost_running_stage() -> None:
    samples = [(5.0, 100), (11.0, 200), (13.0, 300), (16.0, 900), (19.0, 400), (30.0, 800)]
    assert stages.stage_peaks(samples, _intervals()) == {
        stages.OTHER: 100,
        stages.LANDING: 200,
        stages.NORMALISATION: 400,
        stages.VALIDATION: 900,
        stages.DBT: 800,
    }


def test_validation_intervals_come_from_the_gates_documents(tmp_path: Path) -> None:
    folder = tmp_path / "validations"
    folder.mkdir()
    timing = {"validation_started_at": 100.0, "validation_s": 2.5}
    (folder / "06__2026-11-01__verfuegbarkeit.json").write_text(json.dumps({"timing": timing}))
    (folder / "06__2026-11-01__verfuegbarkeit.gx.json").write_text("{}")
    old = {"validation_started_at": 10.0, "validation_s": 1.0}
    (folder / "06__2026-10-01__verfuegbarkeit.json").write_text(json.dumps({"timing": old}))
    (folder / "06__2026-09-01__gebiete.json").write_text("{}")  # written before the timing
    (interval,) = stages.validation_intervals(tmp_path, since=50.0)
    assert (interval.stage, interval.start, interval.end) == (stages.VALIDATION, 100.0, 102.5)


# -- /proc ------------------------------------------------------------------------------------
def test_proc_status_and_stat_are_parsed() -> None:
    assert (
        procfs.parse_vmrss("Name:\tpython\nVmHWM:\t  9000 kB\nVmRSS:\t  1234 kB\n") == 1234 * 1024
    )
    assert procfs.parse_vmrss("Name:\tzombie\nState:\tZ\n") == 0
    # The command name may hold spaces and parentheses.
    assert procfs.parse_ppid("4242 (dbt (worker) 1) S 4200 4242 4242 0 -1") == 4200


def test_busy_cpu_time_is_read_from_proc_stat() -> None:
    line = "cpu  5445883 20923 322844 2019270 43500 0 17829 23438 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n"
    busy = 5445883 + 20923 + 322844 + 17829 + 23438  # idle and iowait are not busy
    assert procfs.parse_cpu_busy(line, 100) == pytest.approx(busy / 100)
    share = procfs.CpuShare().start()
    assert share.others() >= 0.0


def test_descendants_walk_the_whole_tree() -> None:
    parents = {1: 0, 10: 1, 11: 10, 12: 11, 20: 1, 13: 10}
    assert procfs.descendants(10, parents) == {10, 11, 12, 13}
    assert procfs.descendants(99, parents) == {99}


def test_the_rss_of_this_process_tree_is_read() -> None:
    assert procfs.tree_rss(os.getpid()) > 10 * 1024 * 1024
    assert procfs.tree_rss(2**22 + 12345) == 0  # no such process


# -- scaling, tables, machine ---------------------------------------------------------------
def test_linear_cost_with_overhead_has_an_exponent_below_one() -> None:
    linear = [(n, 30 + 2.0 * n) for n in (1, 6, 12)]
    assert report.scaling_exponent(linear) < 1
    quadratic = [(n, 0.5 * n * n) for n in (1, 4, 16)]
    assert report.scaling_exponent(quadratic) == pytest.approx(2.0)
    # The steepest step counts, not the average: cheap start, superlinear end.
    assert report.scaling_exponent([(1, 10), (2, 11), (4, 40)]) == pytest.approx(
        max(report.local_exponents([(1, 10), (2, 11), (4, 40)]))
    )
    assert report.scaling_exponent([(1, 10)]) is None


def test_a_markdown_table_has_a_header_rule_and_aligned_rows() -> None:
    table = report.markdown_table(["stage", "seconds"], [["landing", "2.0"], ["dbt build", "15"]])
    lines = table.splitlines()
    assert lines[0].startswith("| stage ") and lines[1].startswith("|:-")
    assert lines[1].endswith(":|")
    assert len({len(line) for line in lines}) == 1


def test_meminfo_is_read_in_bytes() -> None:
    info = report.parse_meminfo("MemTotal:       24731708 kB\nHugePages_Total:       0\n")
    assert info == {"MemTotal": 24731708 * 1024, "HugePages_Total": 0}


# -- the ozg runs -----------------------------------------------------------------------------
def test_runs_use_the_cli_and_the_snapshot_wrapper_only_where_needed() -> None:
    assert RunSpec("06", 1).command() == [
        PYTHON,
        "-m",
        "pipelines.cli",
        "run",
        "--mode",
        "sample",
        "--land",
        "06",
        "--snapshot",
        "2026-11-01",
    ]
    assert RunSpec("all", 12).command()[1:3] == ["-m", "pipelines.cli"]
    assert "--snapshot" not in RunSpec("all", 12).command()
    assert RunSpec("06", 6).command()[1:4] == ["-m", "benchmarks.ozg_run", "6"]
    assert (RunSpec("all", 1).laender, RunSpec("05,06,08,09", 1).laender) == (16, 4)
    assert RunSpec("all", 1).label == "Germany × 1"


def test_the_run_environment_drops_the_callers_ozg_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OZG_LAND", "05")
    monkeypatch.setenv("DAGSTER_HOME", "/elsewhere")
    env = clean_environment(tmp_path)
    assert env["OZG_DATA_DIR"] == str(tmp_path)
    assert "OZG_LAND" not in env and "DAGSTER_HOME" not in env
    assert env["PATH"] == os.environ["PATH"]


def test_the_failure_reason_is_the_clis_one_line() -> None:
    output = [
        "ozg run · mode sample · Land 05 · 1 snapshot(s)",
        "ozg: FAILED: sample mode covers Land 06 (Hessen) only, not 05",
    ]
    assert failure_reason(output) == "sample mode covers Land 06 (Hessen) only, not 05"
    assert failure_reason(["Traceback", "KeyError: 'x'", ""]) == "KeyError: 'x'"


def test_code_edited_between_run_and_rerun_is_found(tmp_path: Path) -> None:
    for name in ("pipelines/cli.py", "sources/ingest.py", "dbt_project/target/manifest.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    os.utime(tmp_path / "pipelines/cli.py", (1000.0, 1000.0))
    # Only files the fingerprints hash count (dbt's target/ is output, not code).
    assert code_changed_since(2000.0, root=tmp_path) == ["sources/ingest.py"]


# -- the three normalisations agree ---------------------------------------------------------
SNAPSHOT = date(2026, 11, 1)
GOOD = {
    "leika_key": "99911010101000",
    "leika_name": "Unterhaltsvorschuss Bewilligung",
    "ars": "064120000000",
    "ars_name": "Frankfurt am Main, Stadt",
    "ozgid": "92461",
    "ozg_bezeichnung": "Unterhaltsvorschuss",
    "url": "https://frankfurt.example/ozg-92461",
    "online_status": "ok",
    "aktiv": "ja",
    "art_flaechendeckung": "kreisweit flächendeckend",
    "datenstand_pvog_import": "2026-10-29",
}
CSV_ROWS = [
    GOOD,
    # Lost leading zero, status and name to be cleaned, no aktiv, German date.
    {
        **GOOD,
        "leika_key": " 99911010105000 ",
        "ars": "64120000000",
        "leika_name": "Name\u00a0 mit  Lu\u0308cken ",
        "online_status": " OK ",
        "aktiv": "",
        "datenstand_pvog_import": "29.10.2026",
    },
    # A duplicate of the first that is not ok: quarantined, the ok one kept.
    {**GOOD, "online_status": "nicht ok", "aktiv": "nein"},
    {**GOOD, "leika_key": "12345"},
    {**GOOD, "ars": "069999999999"},
    {**GOOD, "leika_key": "99911010106000", "art_flaechendeckung": "irgendwo"},
    {**GOOD, "leika_key": "99911010107000", "datenstand_pvog_import": "2026/10/29"},
    {**GOOD, "leika_key": "99911010108000", "datenstand_pvog_import": "2026-10-29T12:00:00Z"},
    {**GOOD, "leika_key": "99911010109000", "ars": "000000000000", "ars_name": "Bund"},
    {**GOOD, "leika_key": "99911010110000", "ars": "6", "url": ""},
    {**GOOD, "leika_key": "99911010111000", "aktiv": "vielleicht"},
    {**GOOD, "leika_key": "99911010112000", "ars": "06412000000X"},
]
JSON_RECORDS = [
    {**GOOD, "ozgid": 92461, "ars": "064340000000", "export_datum": None},
    {k: v for k, v in GOOD.items() if k not in ("aktiv", "datenstand_pvog_import")}
    | {"ozgid": None, "leika_key": "99911010113000"},
]


def _csv(rows: list[dict[str, str]]) -> bytes:
    lines = [";".join(dashboard.FIELDS)]
    lines += [";".join(row.get(f, "") or "" for f in dashboard.FIELDS) for row in rows]
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def _store(landing: SnapshotLanding, name: str, group: str, body: bytes, kind: str) -> None:
    fetched = Fetched(
        source="dashboard",
        url=f"https://dashboard.example/{name}",
        params={},
        status=200,
        headers={"content-type": kind},
        body=body,
        fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
        elapsed_s=0.01,
        attempts=1,
    )
    landing.store(name, fetched, group=group)
    landing.seal(group, [name])


@pytest.fixture(scope="module")
def partition(tmp_path_factory: pytest.TempPathFactory) -> engines.Partition:
    root = tmp_path_factory.mktemp("raw") / "land=06"
    landing = SnapshotLanding(root, "dashboard", SNAPSHOT.isoformat(), mode="sample")
    _store(landing, "export_064120000000_own.csv", "data/064120000000/own", _csv(CSV_ROWS), "")
    page = json.dumps({"content": JSON_RECORDS, "totalPages": 1, "last": True}).encode()
    _store(
        landing,
        "data_064340000000_above_p0_0000.json",
        "data/064340000000/above",
        page,
        "application/json",
    )
    landing.complete()
    gebiete = pl.DataFrame(
        {
            "ars": ["064120000000", "060000000000", "064340000000"],
            "gebietsstand": ["2025-12-31"] * 3,
        }
    )
    return engines.Partition(SNAPSHOT, root, gebiete)


def test_the_planted_cases_reach_table_and_quarantine(partition: engines.Partition) -> None:
    normalized = engines.run_polars(partition)
    assert normalized.reasons() == {
        "ars_invalid": 1,
        "ars_not_in_gebietsstand": 1,
        "date_invalid": 1,
        "duplicate": 1,
        "enum_invalid": 2,
        "leika_invalid": 1,
    }
    assert normalized.table.height == len(CSV_ROWS) + len(JSON_RECORDS) - 7
    files = engines.raw_files(partition.landing())
    assert [f.format for f in files] == ["csv", "json"]
    assert gzip.decompress(Path(files[1].path).read_bytes()).startswith(b'{"content"')


def test_every_timed_polars_run_parses_the_raw_files(
    partition: engines.Partition, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline keeps a complete landing's parse per process; the benchmark must time
    the parse on every repetition, never the kept copy."""
    parses: list[Path] = []
    parse = ingest._parse_dashboard

    def counted(landing: SnapshotLanding, drift: DriftLog) -> pl.DataFrame:
        parses.append(landing.dir)
        return parse(landing, drift)

    monkeypatch.setattr(ingest, "_parse_dashboard", counted)
    first, second = engines.run_polars(partition), engines.run_polars(partition)
    assert len(parses) == 2
    assert second.table.equals(first.table)


def test_duckdb_and_pandas_build_the_normalisers_table(partition: engines.Partition) -> None:
    normalized = engines.run_polars(partition)
    reference = engines.DuckdbReference()
    reference.run(partition)
    table, counts = reference.result()
    assert engines.compare_tables("duckdb", normalized.table, table) == []
    assert counts == normalized.reasons()
    frame, counts = engines.run_pandas(partition)
    assert engines.compare_tables("pandas", normalized.table, engines.pandas_to_polars(frame)) == []
    assert counts == normalized.reasons()


def test_a_different_table_is_reported(partition: engines.Partition) -> None:
    table = engines.run_polars(partition).table
    changed = table.with_columns(
        pl.when(pl.col("record_index") == 0).then(pl.lit("x")).otherwise(pl.col("url")).alias("url")
    )
    (difference,) = engines.compare_tables("duckdb", table, changed)
    assert "['url']" in difference
    assert engines.compare_tables("duckdb", table, table.head(2)) == [
        "duckdb: 2 rows, the normaliser 7"
    ]
