"""Operating the pipeline: concurrent runs, publishing under readers, a failed gate,
the sensor, the schedule and incremental re-runs.

Three full ``ozg run`` processes in one data directory (two started at once, one re-run
later); every other test works in-process or on a copy of that directory.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import polars as pl
import pytest
from conftest import published_state
from dagster_history import materializations, run_start, step_seconds
from filelock import FileLock

from pipelines.cli import PUBLICATION_UNCHANGED
from pipelines.defs.automation import (
    FOLLOW_UP_GRACE_S,
    LIVE_RUN_CONFIG,
    THEN_LANDS,
    awaiting_land_runs,
    evaluate_after_ingest,
    evaluate_after_nationwide,
    evaluate_upstream,
    fehlerprotokoll,
    nach_bundesweit,
    neuer_datenstand,
    ozg_monatlich,
)
from pipelines.jobs import INGEST_JOB, NATIONWIDE_JOB, PUBLISH_JOB, build_jobs
from pipelines.normalisation import normalize, normalizers
from pipelines.normalisation.tables import FINGERPRINT, input_fingerprint
from pipelines.partitions import nationwide_partitions, scope_dep, scope_key, scope_partitions
from pipelines.publication.inputs import publication_inputs, read_inputs
from pipelines.publication.publish import CSV_BOM, current_publication, publish
from pipelines.resources import OzgSettings
from sources.config import PILOT_ARS, HttpSettings, Settings
from sources.freshness import probe
from sources.http import SourceError
from sources.sample.server import serve_in_thread

# Tests of the full runs (the fixtures concurrent, rerun) and of a whole in-process pipeline
# for two Länder are marked slow one by one; the rest need no pipeline run (make test-fast).

OZG = Path(sys.executable).parent / "ozg"
SNAPSHOT = "2026-11-01"
TABLES = ("gebiete", "leistungen", "verfuegbarkeit", "onlinedienste")
FULL_RUN_TIMEOUT = 900
WAITING = "another ozg run is using"
# keep `pytest -s` readable: failures are asserted, not read from Dagster's console log
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


# -- helpers --------------------------------------------------------------------------------
@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def describe(self) -> str:
        return (
            f"exit {self.returncode} after {self.seconds:.1f}s\n--- stdout\n{self.stdout[-3000:]}"
            f"\n--- stderr\n{self.stderr[-3000:]}"
        )


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without OZG_* and DAGSTER_HOME (the CLI's defaults apply)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OZG_") and k != "DAGSTER_HOME"}
    env["OZG_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


@dataclass
class Started:
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    began: float


def start_ozg(args: list[str], env: dict[str, str], cwd: Path, name: str) -> Started:
    stdout, stderr = cwd / f"{name}.stdout", cwd / f"{name}.stderr"
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        process = subprocess.Popen([str(OZG), *args], env=env, cwd=cwd, stdout=out, stderr=err)
    return Started(process, stdout, stderr, time.monotonic())


def finish_ozg(*started: Started, timeout: float = FULL_RUN_TIMEOUT) -> list[Run]:
    """Wait for all processes, noting when each one exited (for honest wall times)."""
    ended: dict[int, float] = {}
    deadline = time.monotonic() + timeout
    try:
        while len(ended) < len(started) and time.monotonic() < deadline:
            for index, item in enumerate(started):
                if index not in ended and item.process.poll() is not None:
                    ended[index] = time.monotonic()
            time.sleep(0.1)
    finally:
        for item in started:
            if item.process.poll() is None:
                item.process.kill()
                item.process.wait()
    return [
        Run(
            item.process.returncode,
            item.stdout.read_text("utf-8"),
            item.stderr.read_text("utf-8"),
            ended.get(index, time.monotonic()) - item.began,
        )
        for index, item in enumerate(started)
    ]


def run_ozg(args: list[str], env: dict[str, str], cwd: Path, name: str, timeout: float) -> Run:
    (run,) = finish_ozg(start_ozg(args, env, cwd, name), timeout=timeout)
    return run


def partition_files(data_dir: Path) -> dict[str, int]:
    """mtime_ns of every promoted normalised file of SNAPSHOT (data and fingerprint)."""
    files = {}
    for table in TABLES:
        folder = data_dir / "normalized" / table / "land=06" / f"snapshot={SNAPSHOT}"
        for path in sorted(folder.iterdir()):
            files[f"{table}/{path.name}"] = path.stat().st_mtime_ns
    return files


def warehouse_mart_counts(database: Path) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as con:
        marts = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by table_name"
            ).fetchall()
        ]
        return {
            mart: con.execute(f'select count(*) from marts."{mart}"').fetchone()[0]  # type: ignore[index]
            for mart in marts
        }


def clean_ozg_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("OZG_") or name == "DAGSTER_HOME":
            monkeypatch.delenv(name)


# -- two concurrent runs, then a third -------------------------------------------------------
@dataclass
class ConcurrentRuns:
    root: Path
    data_dir: Path
    first: Run  # took the lock at once
    second: Run  # waited for the lock


@pytest.fixture(scope="module")
def concurrent(tmp_path_factory: pytest.TempPathFactory) -> ConcurrentRuns:
    root = tmp_path_factory.mktemp("ops-concurrent")
    data_dir = root / "data"
    env = cli_env(data_dir)
    args = ["run", "--snapshot", SNAPSHOT]
    a = start_ozg(args, env, root, "a")
    b = start_ozg(args, env, root, "b")
    run_a, run_b = finish_ozg(a, b)
    assert run_a.returncode == 0, run_a.describe()
    assert run_b.returncode == 0, run_b.describe()
    waited = [run for run in (run_a, run_b) if WAITING in run.stdout]
    assert len(waited) == 1, "exactly one run must have waited for the lock:\n" + "\n".join(
        r.describe() for r in (run_a, run_b)
    )
    second = waited[0]
    first = run_b if second is run_a else run_a
    return ConcurrentRuns(root, data_dir, first, second)


@pytest.mark.slow
def test_two_concurrent_runs_both_succeed_one_after_the_other(concurrent: ConcurrentRuns) -> None:
    second = concurrent.second.stdout
    wait_line = next(line for line in second.splitlines() if WAITING in line)
    assert str(concurrent.data_dir) in wait_line and "waiting up to 3600s" in wait_line
    assert WAITING not in concurrent.first.stdout
    # The waiting run started its work only after the first had finished.
    assert concurrent.second.seconds > concurrent.first.seconds
    for run in (concurrent.first, concurrent.second):
        assert "done in" in run.stdout and "FAILED" not in run.stderr, run.describe()
    assert not (concurrent.data_dir / "runs" / "failures").exists()


@pytest.mark.slow
def test_published_database_and_exports_after_concurrent_runs(concurrent: ConcurrentRuns) -> None:
    published = concurrent.data_dir / "published"
    counts = warehouse_mart_counts(published / "ozg.duckdb")
    assert counts == warehouse_mart_counts(concurrent.data_dir / "warehouse" / "ozg.duckdb")
    assert "mart_pilotvergleich" in counts and len(counts) >= 10
    with duckdb.connect(str(published / "ozg.duckdb"), read_only=True) as con:
        pilots = {
            row[0]
            for row in con.execute(
                "select distinct ars from marts.mart_pilotvergleich where snapshot_date = ?",
                [date.fromisoformat(SNAPSHOT)],
            ).fetchall()
        }
        with pytest.raises(duckdb.Error):  # read-only: the published copy cannot be written
            con.execute("create table marts.x as select 1 as y")
    assert pilots == set(PILOT_ARS)

    marts_dir = published / "marts"
    assert marts_dir.is_symlink()
    manifest = json.loads((marts_dir / "_published.json").read_text("utf-8"))
    assert manifest["marts"] == counts
    assert (manifest["mode"], manifest["sample"]) == ("sample", True)
    for mart, rows in counts.items():
        assert pl.read_parquet(marts_dir / f"{mart}.parquet").height == rows, mart
        csv = pl.read_csv(
            marts_dir / f"{mart}.csv", separator=";", decimal_comma=True, infer_schema=False
        )
        assert csv.height == rows, mart
    assert sorted(p.name for p in marts_dir.iterdir()) == sorted(
        ["_published.json", *(f"{m}.{ext}" for m in counts for ext in ("csv", "parquet"))]
    )


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [
        ("0", "ozg: FAILED: another ozg run is using {data_dir} (lock {lock}); refused"),
        ("1", "ozg: FAILED: another ozg run kept {data_dir} locked for 1s; gave up"),
    ],
)
def test_a_run_is_refused_while_another_holds_the_lock(
    tmp_path: Path, timeout: str, expected: str
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    lock = FileLock(str(data_dir / ".ozg-run.lock"))
    with lock.acquire(timeout=5):
        run = run_ozg(
            ["run", "--snapshot", SNAPSHOT],
            cli_env(data_dir, OZG_RUN_LOCK_TIMEOUT=timeout),
            tmp_path,
            "refused",
            timeout=120,
        )
    assert run.returncode == 1, run.describe()
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.describe()
    assert lines[0] == expected.format(data_dir=data_dir, lock=data_dir / ".ozg-run.lock")
    waited = WAITING in run.stdout
    assert waited is (timeout != "0"), run.describe()
    # Refused before any work: nothing landed, nothing built or published.
    assert not (data_dir / "raw").exists()
    assert not (data_dir / "warehouse").exists()
    assert not (data_dir / "published").exists()
    assert run.seconds < 60, run.describe()


@dataclass
class ReRun:
    run: Run
    files_before: dict[str, int]
    files_after: dict[str, int]
    markers_before: dict[str, str]  # table -> stored fingerprint before the re-run
    inputs_before: dict[str, str]  # table -> fingerprint of its inputs before the re-run
    inputs_after: dict[str, str]  # ... and after it
    published_before: dict[str, str]
    # The publication inputs (pipelines/publication/inputs.py): recorded by the current
    # publication, and computed now before and after the re-run.
    publication_recorded: str | None
    publication_before: str
    publication_after: str


def stored_fingerprints(data_dir: Path) -> dict[str, str]:
    return {
        table: json.loads(
            (
                data_dir / "normalized" / table / "land=06" / f"snapshot={SNAPSHOT}" / FINGERPRINT
            ).read_text("utf-8")
        )["fingerprint"]
        for table in TABLES
    }


def current_fingerprints(data_dir: Path) -> dict[str, str]:
    settings = Settings(data_dir=data_dir)
    return {
        table: input_fingerprint(settings, table, date.fromisoformat(SNAPSHOT)) for table in TABLES
    }


@pytest.fixture(scope="module")
def rerun(concurrent: ConcurrentRuns) -> ReRun:
    data_dir = concurrent.data_dir
    files_before = partition_files(data_dir)
    markers_before = stored_fingerprints(data_dir)
    inputs_before = current_fingerprints(data_dir)
    published_before = published_state(data_dir)
    publication_recorded = read_inputs(current_publication(data_dir))
    publication_before = publication_inputs(data_dir, "sample")
    run = run_ozg(
        ["run", "--snapshot", SNAPSHOT],
        cli_env(data_dir),
        concurrent.root,
        "c",
        FULL_RUN_TIMEOUT,
    )
    return ReRun(
        run,
        files_before,
        partition_files(data_dir),
        markers_before,
        inputs_before,
        current_fingerprints(data_dir),
        published_before,
        publication_recorded,
        publication_before,
        publication_inputs(data_dir, "sample"),
    )


def _normalized_history(data_dir: Path) -> tuple[dict[str, list[bool]], dict[str, float]]:
    """Per normalised table the ``unchanged`` flag of each materialisation of SNAPSHOT
    (oldest first), and per run id (oldest first) the seconds its normalisation steps took."""
    unchanged: dict[str, list[bool]] = {}
    run_ids: set[str] = set()
    for table in TABLES:
        history = materializations(data_dir, ["normalized", table], f"06|{SNAPSHOT}")
        unchanged[table] = [bool(values["unchanged"]) for _, values in history]
        run_ids.update(run_id for run_id, _ in history)
    ordered = sorted(run_ids, key=lambda run_id: run_start(data_dir, run_id))
    return unchanged, {rid: step_seconds(data_dir, rid, "normalized__") for rid in ordered}


@pytest.mark.slow
def test_incremental_rerun_reports_unchanged_partitions(
    concurrent: ConcurrentRuns, rerun: ReRun
) -> None:
    assert rerun.run.returncode == 0, rerun.run.describe()
    unchanged, seconds = _normalized_history(concurrent.data_dir)
    first_run, *_, last_run = seconds.values()
    print(
        f"\nwall time: first full run {concurrent.first.seconds:.1f}s, "
        f"waiting run {concurrent.second.seconds:.1f}s "
        f"({concurrent.second.seconds - concurrent.first.seconds:.1f}s after the lock was free), "
        f"incremental re-run {rerun.run.seconds:.1f}s; "
        f"normalisation steps {first_run:.1f}s -> {last_run:.1f}s"
    )
    assert len(seconds) == 3  # the two concurrent runs and the re-run
    for table in TABLES:
        # One materialisation per run; the first run built every table. (Whether the
        # waiting run could skip depends on whether the code was edited in between.)
        assert len(unchanged[table]) == 3 and unchanged[table][0] is False, (table, unchanged)

    # The fingerprint covers the raw bodies, the upstream partitions, the code and the
    # suites. Colleagues editing pipelines/ or expectations/ during the session
    # legitimately change it; then the affected tables must be rebuilt instead.
    same_inputs = {
        table
        for table in TABLES
        if rerun.markers_before[table] == rerun.inputs_before[table] == rerun.inputs_after[table]
    }
    if same_inputs != set(TABLES):
        print(f"fingerprint inputs changed during the session for {set(TABLES) - same_inputs}")
    for table in TABLES:
        files = {k: v for k, v in rerun.files_after.items() if k.startswith(f"{table}/")}
        if table in same_inputs:
            assert unchanged[table][-1] is True, (table, unchanged[table])
            # Neither the partition nor its fingerprint marker was rewritten.
            assert files == {
                k: v for k, v in rerun.files_before.items() if k.startswith(f"{table}/")
            }, table
        elif rerun.markers_before[table] != rerun.inputs_before[table]:
            assert unchanged[table][-1] is False, (table, unchanged[table])
    assert len(rerun.files_after) == 2 * len(TABLES)
    if same_inputs == set(TABLES):
        assert last_run < first_run, seconds

    after = published_state(concurrent.data_dir)
    if rerun.publication_recorded == rerun.publication_before == rerun.publication_after:
        # Nothing dbt, publication or the reports read changed: all three were skipped and
        # the publication is byte-identical (its version too).
        assert PUBLICATION_UNCHANGED in rerun.run.stdout, rerun.run.describe()
        assert after == rerun.published_before
        return
    print("publication inputs changed during the session (code edited): published again")
    # The re-run published again (a new version) with the same marts and row counts.
    assert PUBLICATION_UNCHANGED not in rerun.run.stdout, rerun.run.describe()
    assert after["current ->"] != rerun.published_before["current ->"]
    assert after.keys() == rerun.published_before.keys()
    published = concurrent.data_dir / "published"
    manifests = [
        json.loads((published / version / "marts" / "_published.json").read_text())
        for version in (rerun.published_before["current ->"], after["current ->"])
    ]
    assert manifests[0]["marts"] == manifests[1]["marts"]


# -- publishing while a reader holds the published file -------------------------------------
READER = textwrap.dedent(
    """
    import json, sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    def look():
        return {
            "pilot_rows": con.execute(
                "select count(*) from marts.mart_pilotvergleich"
            ).fetchone()[0],
            "probe_tables": con.execute(
                "select count(*) from information_schema.tables where table_schema = 'probe'"
            ).fetchone()[0],
        }
    print(json.dumps(look()), flush=True)
    sys.stdin.readline()  # the publisher has replaced the file
    print(json.dumps(look()), flush=True)
    con.close()
    """
)


@pytest.mark.slow
def test_publishing_while_a_reader_holds_the_published_file(
    concurrent: ConcurrentRuns, tmp_path: Path
) -> None:
    # A copy of the published state; the warehouse gets a marker table so the new file is
    # distinguishable from the old one.
    data_dir = tmp_path / "data"
    shutil.copytree(concurrent.data_dir / "published", data_dir / "published", symlinks=True)
    warehouse = tmp_path / "warehouse" / "ozg.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(concurrent.data_dir / "warehouse" / "ozg.duckdb", warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema probe")
        con.execute("create table probe.token as select 'new build' as token")
    target = data_dir / "published" / "ozg.duckdb"
    old_inode = target.stat().st_ino
    old_manifest = json.loads((data_dir / "published" / "marts" / "_published.json").read_text())
    old_version = (data_dir / "published" / "marts").resolve()

    # DuckDB caches database instances per path inside one process, so the reader must be
    # another process. It holds a shared (read) lock; publishing never opens the published
    # file for writing, it renames a finished copy over it.
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdin is not None
        before = json.loads(reader.stdout.readline() or "null")
        assert before is not None, reader.stderr.read() if reader.stderr else ""
        assert before["pilot_rows"] > 0 and before["probe_tables"] == 0

        result = publish(warehouse, data_dir, mode="sample")

        reader.stdin.write("go\n")
        reader.stdin.flush()
        after = json.loads(reader.stdout.readline() or "null")
        assert reader.wait(timeout=60) == 0, reader.stderr.read() if reader.stderr else ""
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    # The old connection kept answering from the old file.
    assert after == before

    assert result.database == target
    assert target.stat().st_ino != old_inode
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select token from probe.token").fetchall() == [("new build",)]
        assert (
            con.execute("select count(*) from marts.mart_pilotvergleich").fetchone()[0]  # type: ignore[index]
            == before["pilot_rows"]
        )
    manifest = json.loads((data_dir / "published" / "marts" / "_published.json").read_text())
    assert manifest["published_at"] > old_manifest["published_at"]
    assert manifest["marts"] == result.marts == old_manifest["marts"]
    # The link moved to a new version; the old one is kept for readers still inside it.
    assert (data_dir / "published" / "marts").resolve() != old_version
    assert old_version.is_dir()
    assert not list((data_dir / "published").glob(".tmp-*"))
    assert not list((data_dir / "published").glob(".staging-*"))


@pytest.mark.slow
def test_csv_exports_are_german_excel_csv_with_the_parquet_values(
    concurrent: ConcurrentRuns,
) -> None:
    marts_dir = concurrent.data_dir / "published" / "marts"
    csv_path = marts_dir / "mart_pilotvergleich.csv"
    raw = csv_path.read_bytes()
    assert raw.startswith(CSV_BOM.encode("utf-8")) and raw.startswith(b"\xef\xbb\xbf")
    header = raw[3:].split(b"\n", 1)[0].decode("utf-8")
    assert header.startswith("snapshot_date;") and "," not in header
    parquet = pl.read_parquet(marts_dir / "mart_pilotvergleich.parquet")
    first = raw[3:].decode("utf-8").splitlines()[1].split(";")
    quote = parquet.columns.index("quote_online")
    assert "," in first[quote] and "." not in first[quote], first[quote]

    checked_floats = 0
    for parquet_path in sorted(marts_dir.glob("*.parquet")):
        parquet = pl.read_parquet(parquet_path)
        back = pl.read_csv(
            parquet_path.with_suffix(".csv"),
            separator=";",
            decimal_comma=True,
            schema=parquet.schema,
        )
        assert back.equals(parquet), parquet_path.stem
        checked_floats += sum(dtype == pl.Float64 for dtype in parquet.schema.values())
    assert checked_floats > 10


# -- a failed gate leaves the published state alone ----------------------------------------
@pytest.mark.slow
def test_a_blocked_gate_fails_the_run_and_leaves_the_published_files_untouched(
    concurrent: ConcurrentRuns, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.definitions import build_definitions

    data_dir = tmp_path / "data"
    shutil.copytree(concurrent.data_dir, data_dir, symlinks=True)
    before = published_state(data_dir)
    assert before["ozg.duckdb"] and len(before) > 5

    # The next month delivers negative population figures for Wiesbaden: the blocking
    # expectation population_non_negative of normalized/gebiete must stop the run.
    original = normalizers.gebiete.normalize_gebiete

    def corrupted(*args: object, **kwargs: object) -> normalize.Normalized:
        result = original(*args, **kwargs)  # type: ignore[arg-type]
        table = result.table.with_columns(
            pl.when(pl.col("ars") == "064140000000")
            .then(pl.lit(-1, dtype=pl.Int64))
            .otherwise(pl.col("bevoelkerung"))
            .alias("bevoelkerung")
        )
        return dataclasses.replace(result, table=table)

    monkeypatch.setattr(normalizers.gebiete, "normalize_gebiete", corrupted)
    clean_ozg_env(monkeypatch)
    monkeypatch.setenv("OZG_DATA_DIR", str(data_dir))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        definitions = build_definitions(Settings(data_dir=data_dir))
    job = definitions.resolve_job_def(INGEST_JOB)  # the job the schedule and sensor run
    with dg.DagsterInstance.ephemeral() as instance:
        # The snapshot's nationwide partition first, as the schedule's runs come.
        nationwide = definitions.resolve_job_def(NATIONWIDE_JOB).execute_in_process(
            partition_key="2026-10-01", instance=instance, run_config=QUIET
        )
        assert nationwide.success
        result = job.execute_in_process(
            partition_key=scope_key("06", "2026-10-01"),
            instance=instance,
            raise_on_error=False,
            # keep `pytest -s` readable: the failure is asserted below, not read from the log
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        )
        assert not result.success
        assert result.get_failed_step_keys() == {"normalized__gebiete"}
        (failure,) = result.get_step_failure_events()
        message = failure.step_failure_data.error.message  # type: ignore[union-attr]
        assert "quality gate blocked" in message and "population_non_negative" in message
        materialized = {
            e.event_specific_data.materialization.asset_key.to_user_string()  # type: ignore[union-attr]
            for e in result.get_asset_materialization_events()
        }
        assert "normalized/gebiete" not in materialized
        assert not {k for k in materialized if k.split("/")[0] in ("marts", "published")}

        # The run-failure sensor writes its record (no webhook configured).
        context = dg.build_run_status_sensor_context(
            sensor_name="fehlerprotokoll",
            dagster_event=result.get_run_failure_event(),
            dagster_instance=instance,
            dagster_run=result.dagster_run,
        ).for_run_failure()
        fehlerprotokoll(context)

    assert published_state(data_dir) == before
    scoped = Path("land=06") / "snapshot=2026-10-01"
    partition = data_dir / "normalized" / "gebiete" / scoped / "data.parquet"
    assert not partition.exists()
    rejected = data_dir / "normalized" / "_rejected" / "gebiete" / scoped
    assert (rejected / "data.parquet").is_file()

    records = list((data_dir / "runs" / "failures").glob("*.json"))
    assert [p.name for p in records] == [f"{result.run_id}.json"]
    record = json.loads(records[0].read_text("utf-8"))
    assert record["run_id"] == result.run_id and record["job"] == INGEST_JOB
    assert record["tags"]["dagster/partition"] == "06|2026-10-01"
    assert "normalized__gebiete" in record["message"]
    assert record["published_untouched"] is True
    assert datetime.fromisoformat(record["failed_at"]).tzinfo is not None


# -- the Land dimension -------------------------------------------------------------------
def live_env(monkeypatch: pytest.MonkeyPatch, base: str, data_dir: Path) -> None:
    clean_ozg_env(monkeypatch)
    for name, prefix in (
        ("OZG_DASHBOARD_URL", "/dashboard"),
        ("OZG_PVOG_URL", "/pvog"),
        ("OZG_FIM_URL", "/fim"),
        ("OZG_DESTATIS_URL", "/destatis"),
    ):
        monkeypatch.setenv(name, base + prefix)
    monkeypatch.setenv("OZG_DATA_DIR", str(data_dir))
    monkeypatch.setenv("OZG_PVOG_ARS", "000000000000")  # the server embeds the Bund export only
    monkeypatch.setenv("OZG_HTTP_MIN_INTERVAL", "0")
    monkeypatch.setenv("OZG_HTTP_MAX_ATTEMPTS", "1")


def raw_tree(root: Path, *parts: str) -> dict[str, bytes]:
    """Every file under ``root/parts…`` with its bytes."""
    base = root.joinpath(*parts)
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()
    }


def materialization_metadata(result: dg.ExecuteInProcessResult, key: str) -> dict[str, object]:
    (event,) = [
        e
        for e in result.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key.to_user_string() == key  # type: ignore[union-attr]
    ]
    values = event.event_specific_data.materialization.metadata  # type: ignore[union-attr]
    return {k: v.value for k, v in values.items()}


@pytest.mark.slow
def test_a_second_land_is_its_own_partition_and_reads_the_nationwide_landings(
    sample_server: Callable[[date], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.definitions import build_definitions
    from sources.sample.files import gv100ad_frame

    live_env(monkeypatch, sample_server(date(2026, 11, 1)), tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        definitions = build_definitions(
            Settings.from_env(mode="live", lands="06,05"), step_retries=False
        )
    ingest = definitions.resolve_job_def(INGEST_JOB)

    def materialize(land: str) -> dg.ExecuteInProcessResult:
        return ingest.execute_in_process(
            partition_key=scope_key(land, "2026-11-01"),
            instance=instance,
            raise_on_error=False,
            run_config=QUIET,
        )

    with dg.DagsterInstance.ephemeral() as instance:
        # GV100AD and FIM are nationwide: the snapshot's own run lands them once.
        nationwide = definitions.resolve_job_def(NATIONWIDE_JOB).execute_in_process(
            partition_key="2026-11-01", instance=instance, run_config=QUIET
        )
        assert nationwide.success
        for source in ("destatis_gv100ad", "fim"):
            values = materialization_metadata(nationwide, f"raw/{source}")
            assert values["reused"] is False and values["fetched_now"] > 0, source
            assert "land" not in values  # it belongs to no Land
            assert values["landing_dir"] == str(tmp_path / "raw" / source / "2026-11-01")
        landed_once = {
            name: body
            for source in ("destatis_gv100ad", "fim")
            for name, body in raw_tree(tmp_path, "raw", source).items()
        }
        hessen = materialize("06")
        assert hessen.success
        hessen_raw = raw_tree(tmp_path, "raw", "land=06")
        nrw = materialize("05")

        # Neither Land run lands (or reads as its own) a nationwide source; both read the
        # same landing, which they leave byte for byte as the nationwide run wrote it.
        for result in (hessen, nrw):
            keys = {
                e.event_specific_data.materialization.asset_key.to_user_string()  # type: ignore[union-attr]
                for e in result.get_asset_materialization_events()
            }
            assert not keys & {"raw/destatis_gv100ad", "raw/fim"}, keys
            assert "raw/dashboard" in keys
        assert {
            name: body
            for source in ("destatis_gv100ad", "fim")
            for name, body in raw_tree(tmp_path, "raw", source).items()
        } == landed_once
        # The Dashboard is pulled for every ARS of Land 05 into its own landing.
        dashboard = materialization_metadata(nrw, "raw/dashboard")
        assert dashboard["reused"] is False
        assert dashboard["landing_dir"] == str(
            tmp_path / "raw" / "land=05" / "dashboard" / "2026-11-01"
        )
        manifest = json.loads(
            (tmp_path / "raw" / "land=05" / "dashboard" / "2026-11-01" / "manifest.json").read_text(
                "utf-8"
            )
        )
        queried = {
            urlsplit(entry["url"]).path.rsplit("/", 1)[1]
            for entry in manifest["entries"]
            if "/v1/data/" in entry["url"]
        }
        gv100ad = gv100ad_frame()
        nrw_ars = set(
            gv100ad.filter((pl.col("land") == "05") & pl.col("satzart").is_in(["10", "40", "60"]))[
                "ars"
            ].to_list()
        )
        assert queried == {"000000000000", *nrw_ars}
        # 428 ARS: the Land, 53 Kreise (22 of them kreisfreie Städte, also Gemeinde records
        # with the same ARS) and 396 Gemeinden.
        assert len(nrw_ars) > 400
        # Land 06's raw files were not touched by the run of Land 05.
        assert raw_tree(tmp_path, "raw", "land=06") == hessen_raw

        # The sample server knows no Kommune of Land 05: the pull is complete but empty,
        # and the completeness expectation blocks the partition instead of publishing it.
        assert not nrw.success
        assert nrw.get_failed_step_keys() == {"normalized__verfuegbarkeit"}
        (failure,) = nrw.get_step_failure_events()
        message = failure.step_failure_data.error.message  # type: ignore[union-attr]
        assert "quality gate blocked" in message and "coverage_queries" in message
        lake = tmp_path / "normalized"
        assert (lake / "gebiete" / "land=05" / "snapshot=2026-11-01" / "data.parquet").is_file()
        assert not (lake / "verfuegbarkeit" / "land=05").exists()
        assert (
            lake / "verfuegbarkeit" / "land=06" / "snapshot=2026-11-01" / "data.parquet"
        ).is_file()


# -- the Länder of one snapshot side by side ------------------------------------------------
# The raw and normalised assets with the jobs pipelines/jobs.py derives from them: what a step
# process of a daemon-launched ingest run loads, without the dbt part of the code location
# (which no ingest step uses) – a step process starts in 2 s instead of 10 s.
INGEST_LOCATION = """
import dagster as dg

from pipelines.defs import normalized, raw
from pipelines.jobs import build_jobs
from pipelines.resources import OzgSettings
from sources.config import Settings

assets = dg.load_assets_from_modules([raw, normalized])
defs = dg.Definitions(
    assets=assets,
    jobs=build_jobs(assets, step_retries=False),
    resources={"ozg": OzgSettings.from_settings(Settings.from_env())},
)
"""
# The multiprocess executor (the job's default), its step processes forked from a server that
# imported the assets and great_expectations once per run: otherwise each normalisation step
# imports great_expectations itself, which took most of the test's two minutes.
FORKED_STEPS = {
    "execution": {
        "config": {
            "multiprocess": {
                "start_method": {
                    "forkserver": {
                        "preload_modules": [
                            "pipelines.defs.raw",
                            "pipelines.defs.normalized",
                            "great_expectations",
                        ]
                    }
                }
            }
        }
    }
}
SIDE_BY_SIDE = ("02", "04")  # Hamburg and Bremen: the smallest Länder of the sample


def lake_state(data_dir: Path) -> dict[str, object]:
    """What the ingest wrote, independent of when: every Parquet file's rows, every
    partition's input fingerprint, every landed body by its sha256 (the manifests also
    record fetch times)."""
    state: dict[str, object] = {}
    for path in sorted(data_dir.glob("*/**/*.parquet")):
        frame = pl.read_parquet(path)
        state[str(path.relative_to(data_dir))] = (frame.schema, frame.rows())
    for path in sorted(data_dir.glob("normalized/**/_fingerprint.json")):
        state[str(path.relative_to(data_dir))] = path.read_text("utf-8")
    for path in sorted(data_dir.glob("raw/**/manifest.json")):
        entries = json.loads(path.read_text("utf-8"))["entries"]
        state[str(path.relative_to(data_dir))] = sorted((e["name"], e["sha256"]) for e in entries)
    return state


@pytest.mark.slow
def test_the_laender_of_one_snapshot_run_side_by_side_without_racing(tmp_path: Path) -> None:
    """After the snapshot's nationwide run, two Land runs launched as the daemon launches
    them (``dagster job execute``, the multiprocess executor: a process per step, each
    holding the data directory's lock while it runs), at the same time: both succeed, they
    run side by side, neither touches the nationwide landing, and the lake is the lake of
    the same runs one after the other."""
    from pipelines.definitions import build_definitions
    from pipelines.normalisation.tables import code_version

    code_before = {table: code_version(table) for table in TABLES}

    def nationwide_run(data_dir: Path, instance: dg.DagsterInstance) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            definitions = build_definitions(Settings(data_dir=data_dir), step_retries=False)
        job = definitions.resolve_job_def(NATIONWIDE_JOB)
        assert job.execute_in_process(
            partition_key=SNAPSHOT, instance=instance, run_config=QUIET
        ).success

    # One after the other, in process.
    sequential = tmp_path / "sequential"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        definitions = build_definitions(Settings(data_dir=sequential), step_retries=False)
    with dg.DagsterInstance.ephemeral() as instance:
        nationwide_run(sequential, instance)
        for land in SIDE_BY_SIDE:
            result = definitions.resolve_job_def(INGEST_JOB).execute_in_process(
                partition_key=scope_key(land, SNAPSHOT), instance=instance, run_config=QUIET
            )
            assert result.success, land

    # Side by side, in their own processes, on one Dagster instance.
    data_dir = tmp_path / "parallel"
    home = data_dir / "dagster"
    home.mkdir(parents=True)
    shutil.copyfile(Path(__file__).resolve().parents[2] / "dagster.yaml", home / "dagster.yaml")
    location = tmp_path / "ingest_location.py"
    location.write_text(INGEST_LOCATION, encoding="utf-8")
    run_config = tmp_path / "run_config.json"  # YAML reads JSON
    run_config.write_text(json.dumps(FORKED_STEPS), encoding="utf-8")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        nationwide_run(data_dir, instance)
    landed_once = {
        name: body
        for source in ("destatis_gv100ad", "fim")
        for name, body in raw_tree(data_dir, "raw", source).items()
    }
    root = Path(__file__).resolve().parents[2]
    env = cli_env(data_dir, DAGSTER_HOME=str(home), PYTHONPATH=str(root))
    processes = {}
    for land in SIDE_BY_SIDE:
        tags = {
            "dagster/partition": f"{land}|{SNAPSHOT}",
            "dagster/partition/land": land,
            "dagster/partition/snapshot": SNAPSHOT,
            "ozg/land": land,
        }
        command = ["job", "execute", "-f", str(location), "-a", "defs", "-j", INGEST_JOB]
        command += ["-c", str(run_config)]
        processes[land] = subprocess.Popen(
            [str(OZG.parent / "dagster"), *command, "--tags", json.dumps(tags)],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    outputs = {land: process.communicate(timeout=600)[0] for land, process in processes.items()}
    for land, process in processes.items():
        assert process.returncode == 0, outputs[land][-3000:]

    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = {
            run.tags["ozg/land"]: instance.get_run_record_by_id(run.run_id)
            for run in instance.get_runs(filters=dg.RunsFilter(job_name=INGEST_JOB))
        }
        assert set(runs) == set(SIDE_BY_SIDE)
        for record in runs.values():
            assert record is not None and record.dagster_run.status == dg.DagsterRunStatus.SUCCESS
            materialized = {
                entry.asset_key.to_user_string()
                for entry in instance.get_records_for_run(
                    record.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
                ).records
                if entry.asset_key is not None
            }
            assert materialized == {
                "raw/dashboard",
                "raw/pvog",
                *(f"normalized/{table}" for table in TABLES),
            }
        # They ran side by side: each started before the other had ended.
        first, second = (runs[land] for land in SIDE_BY_SIDE)
        assert first is not None and second is not None
        assert first.start_time is not None and second.start_time is not None
        assert first.start_time < (second.end_time or 0) and second.start_time < (
            first.end_time or 0
        ), (first.start_time, first.end_time, second.start_time, second.end_time)
    assert {
        name: body
        for source in ("destatis_gv100ad", "fim")
        for name, body in raw_tree(data_dir, "raw", source).items()
    } == landed_once
    parallel_state, sequential_state = lake_state(data_dir), lake_state(sequential)
    assert set(parallel_state) == set(sequential_state)
    assert any(f"land={SIDE_BY_SIDE[1]}" in name for name in parallel_state)
    # A fingerprint hashes the code a table is built with: a colleague editing it during the
    # test legitimately changes the fingerprints built after the edit (the data stay equal).
    edited = {table for table in TABLES if code_version(table) != code_before[table]}
    if edited:
        print(f"code of {sorted(edited)} edited during the test: their fingerprints not compared")
    for name, value in sequential_state.items():
        if name.endswith("_fingerprint.json") and name.split("/")[1] in edited:
            continue
        assert parallel_state[name] == value, name
    assert not list((data_dir / "normalized" / "_staging").rglob("*.parquet"))


# -- the sensor ------------------------------------------------------------------------------
@pytest.fixture
def sample_server() -> Iterator[Callable[[date], str]]:
    servers = []

    def start(snapshot: date) -> str:
        server, base = serve_in_thread(snapshot)
        servers.append(server)
        return base

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def live_settings(base: str, data_dir: Path) -> Settings:
    return Settings(
        mode="live",
        data_dir=data_dir,
        dashboard_url=f"{base}/dashboard",
        pvog_url=f"{base}/pvog",
        fim_url=f"{base}/fim",
        destatis_url=f"{base}/destatis",
        http=HttpSettings(min_interval=0, max_attempts=1, deadline=30),
    )


def test_sensor_requests_the_nationwide_run_for_the_laender_with_a_new_datenstand(
    sample_server: Callable[[date], str], tmp_path: Path
) -> None:
    today = date(2026, 11, 15)
    november = live_settings(sample_server(date(2026, 11, 1)), tmp_path)
    state = probe(november, today)
    assert state.datenstand and state.land_entries and state.gv100ad_version, state

    requests_, cursor = evaluate_upstream(None, november, today)
    assert len(requests_) == 1
    (request,) = requests_
    assert json.loads(cursor) == {"06": state.key()}
    # The nationwide run of the snapshot first; nach_bundesweit follows it with Land 06.
    assert request.run_key == f"upstream-2026-11-01-06:{state.key()}"
    assert f"datenstand={state.datenstand}" in request.run_key
    assert request.partition_key == "2026-11-01"
    assert nationwide_partitions.has_partition_key(request.partition_key)
    assert request.run_config == LIVE_RUN_CONFIG
    assert request.tags["ozg/trigger"] == "neuer_datenstand"
    assert request.tags[THEN_LANDS] == "06"

    again, same_cursor = evaluate_upstream(cursor, november, today)
    assert again == [] and same_cursor == cursor

    # The upstream moves on: a server with an older sample snapshot has another Datenstand.
    october = live_settings(sample_server(date(2026, 10, 1)), tmp_path)
    changed = probe(october, today)
    assert changed.datenstand != state.datenstand
    assert changed.gv100ad_version == state.gv100ad_version  # same GV100AD edition
    new_requests, new_cursor = evaluate_upstream(cursor, october, today)
    assert len(new_requests) == 1 and json.loads(new_cursor) == {"06": changed.key()}
    assert new_requests[0].run_key != request.run_key
    assert new_requests[0].partition_key == "2026-11-01"
    assert evaluate_upstream(new_cursor, october, today)[0] == []

    # Two Länder, one of them new: one nationwide run, followed by the new one only.
    two = dataclasses.replace(october, lands=("06", "05"))
    both, both_cursor = evaluate_upstream(new_cursor, two, today)
    (request,) = both
    assert request.tags[THEN_LANDS] == "05"
    assert set(json.loads(both_cursor)) == {"06", "05"}


def test_the_sensor_definition_against_the_sample_server(
    sample_server: Callable[[date], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live_env(monkeypatch, sample_server(date(2026, 11, 1)), tmp_path)

    with dg.build_sensor_context(cursor=None) as context:
        result = neuer_datenstand(context)
    assert isinstance(result, dg.SensorResult), result
    assert len(result.run_requests or []) == 1
    (request,) = result.run_requests or []
    current = date.today().replace(day=1).isoformat()
    assert request.partition_key == current
    assert nationwide_partitions.has_partition_key(request.partition_key)
    assert result.cursor
    state_key = json.loads(result.cursor)["06"]
    assert request.run_key == f"upstream-{current}-06:{state_key}"
    assert request.tags[THEN_LANDS] == "06"
    assert "gv100ad=None" not in state_key  # the HEAD probe got the edition's ETag

    with dg.build_sensor_context(cursor=result.cursor) as context:
        skipped = neuer_datenstand(context)
    assert isinstance(skipped, dg.SkipReason), skipped
    assert state_key in (skipped.skip_message or "")


# -- the Land runs after the nationwide run -------------------------------------------------
def toy_definitions(data_dir: Path) -> dg.Definitions:
    """A nationwide and a Land × snapshot asset that do nothing, with the jobs
    ``pipelines/jobs.py`` derives from them (the real job names and partitions)."""

    @dg.asset(key=["raw", "fim"], partitions_def=nationwide_partitions)
    def fim(ozg: OzgSettings) -> None: ...

    @dg.asset(
        key=["normalized", "leistungen"], partitions_def=scope_partitions, deps=[scope_dep(fim)]
    )
    def leistungen(ozg: OzgSettings) -> None: ...

    return dg.Definitions(
        assets=[fim, leistungen],
        jobs=build_jobs([fim, leistungen], step_retries=False),
        resources={"ozg": OzgSettings(data_dir=str(data_dir))},
    )


TOY_KEYS = [dg.AssetKey(["raw", "fim"]), dg.AssetKey(["normalized", "leistungen"])]


def test_nach_bundesweit_follows_the_schedules_nationwide_run_with_its_laender(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_ozg_env(monkeypatch)
    monkeypatch.setenv("OZG_LAND", "09,05")
    definitions = toy_definitions(tmp_path)
    nationwide = definitions.resolve_job_def(NATIONWIDE_JOB)
    ingest = definitions.resolve_job_def(INGEST_JOB)
    with dg.instance_for_test() as instance:
        with dg.build_sensor_context(instance=instance) as context:
            skipped = nach_bundesweit(context)
        assert isinstance(skipped, dg.SkipReason)
        assert skipped.skip_message == "no nationwide run to follow"
        # A nationwide run of `ozg run` (or the UI) names no Länder: nothing follows it.
        manual = nationwide.execute_in_process(
            partition_key="2026-11-01", instance=instance, tags={"ozg/mode": "sample"}
        )
        with dg.build_sensor_context(instance=instance) as context:
            result = nach_bundesweit(context)
        assert isinstance(result, dg.SensorResult) and not result.run_requests
        assert result.cursor is not None  # past that run's success
        assert awaiting_land_runs(instance) == []

        # The schedule's tick: the nationwide run, naming the Länder in scope.
        tick = datetime(2026, 11, 2, 6, 0, tzinfo=ZoneInfo("Europe/Berlin"))
        with dg.build_schedule_context(scheduled_execution_time=tick) as schedule_context:
            (request,) = ozg_monatlich(schedule_context)
        scheduled = nationwide.execute_in_process(
            partition_key=request.partition_key,
            instance=instance,
            run_config=request.run_config,
            tags=request.tags,
        )
        # Until its Land runs are requested, the batch is not over: nothing is published –
        # for FOLLOW_UP_GRACE_S (a stopped nach_bundesweit must not hold it back for ever).
        assert awaiting_land_runs(instance) == [scheduled.run_id]
        assert evaluate_after_ingest(instance, TOY_KEYS, None) == (
            None,
            None,
            "1 nationwide run(s) still to be followed by Land runs",
        )
        assert awaiting_land_runs(instance, now=time.time() + FOLLOW_UP_GRACE_S + 1) == []
        requests_, cursor, reason = evaluate_after_nationwide(instance, result.cursor)
        assert reason == "2 Land run(s) requested"
        assert [r.partition_key for r in requests_] == ["09|2026-11-01", "05|2026-11-01"]
        assert [r.run_key for r in requests_] == [
            f"nach-bundesweit-{scheduled.run_id}-09",
            f"nach-bundesweit-{scheduled.run_id}-05",
        ]
        for land, follow_up in zip(("09", "05"), requests_, strict=True):
            assert follow_up.run_config == LIVE_RUN_CONFIG  # in the nationwide run's mode
            assert dg.validate_run_config(ingest, follow_up.run_config)
            assert follow_up.tags == {
                "ozg/land": land,
                "ozg/mode": "live",
                "ozg/trigger": "schedule",
                "ozg/after_run": scheduled.run_id,
            }
        assert manual.run_id not in {r.tags["ozg/after_run"] for r in requests_}
        # Looked at once: the same state asks for nothing again.
        assert evaluate_after_nationwide(instance, cursor) == (
            [],
            cursor,
            "no nationwide run to follow",
        )

        # The daemon launches the Land runs: the batch is in flight until they are done.
        from dagster._core.test_utils import create_run_for_test

        for follow_up in requests_:
            create_run_for_test(
                instance,
                job_name=INGEST_JOB,
                tags={**follow_up.tags, "dagster/partition": follow_up.partition_key},
                status=dg.DagsterRunStatus.STARTED,
            )
        assert awaiting_land_runs(instance) == []
        assert (
            evaluate_after_ingest(instance, TOY_KEYS, None)[2] == "2 run(s) still queued or running"
        )


# -- publishing once after a batch of ingest runs ----------------------------------------------
def test_nach_ingest_publishes_once_after_the_whole_batch_in_the_batch_mode() -> None:
    from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
    from dagster._core.test_utils import create_run_for_test

    keys = [dg.AssetKey(["normalized", "gebiete"]), dg.AssetKey(["normalized", "leistungen"])]

    @dg.asset(key=keys[0], partitions_def=scope_partitions)
    def gebiete(ozg: OzgSettings) -> None: ...

    def ingest_run(instance: dg.DagsterInstance, land: str) -> str:
        result = dg.materialize(
            [gebiete],
            partition_key=scope_key(land, "2026-11-01"),
            resources={"ozg": OzgSettings()},
            instance=instance,
            run_config=LIVE_RUN_CONFIG,
            tags={"ozg/mode": "live"},
        )
        return result.run_id

    with dg.instance_for_test() as instance:
        assert evaluate_after_ingest(instance, keys, None) == (
            None,
            None,
            "no partition promoted since the last publication",
        )
        # A schedule tick: Hessen is done, Bayern still running – nothing is published yet.
        ingest_run(instance, "06")
        running = create_run_for_test(
            instance, job_name=INGEST_JOB, status=dg.DagsterRunStatus.STARTED
        )
        request, cursor, reason = evaluate_after_ingest(instance, keys, None)
        assert (request, cursor, reason) == (None, None, "1 run(s) still queued or running")
        # A publish run in flight does not hold the batch back; a backfill does.
        instance.delete_run(running.run_id)
        create_run_for_test(instance, job_name=PUBLISH_JOB, status=dg.DagsterRunStatus.STARTED)
        instance.add_backfill(
            PartitionBackfill(
                backfill_id="ingest-backfill",
                status=BulkActionStatus.REQUESTED,
                from_failure=False,
                tags={},
                backfill_timestamp=time.time(),
            )
        )
        assert evaluate_after_ingest(instance, keys, None)[2] == "a backfill is still running"
        instance.update_backfill(
            instance.get_backfill("ingest-backfill").with_status(BulkActionStatus.COMPLETED)  # type: ignore[union-attr]
        )
        last_run = ingest_run(instance, "09")
        request, cursor, reason = evaluate_after_ingest(instance, keys, None)
        assert request is not None and cursor is not None, reason
        # One request for both partitions, in the mode the batch ran in.
        assert request.run_key == f"nach-ingest-{cursor}"
        assert request.run_config == LIVE_RUN_CONFIG
        assert request.tags == {"ozg/trigger": "nach_ingest", "ozg/after_run": last_run}
        assert request.partition_key is None
        # Published: the same state asks for nothing; the next promoted partition does.
        assert evaluate_after_ingest(instance, keys, cursor) == (
            None,
            cursor,
            "no partition promoted since the last publication",
        )
        ingest_run(instance, "06")
        again, later, _ = evaluate_after_ingest(instance, keys, cursor)
        assert again is not None and int(later) > int(cursor)  # type: ignore[arg-type]


# -- the schedule ----------------------------------------------------------------------------
def test_monthly_schedule_requests_the_current_snapshot_in_live_mode(tmp_path: Path) -> None:
    from pipelines.definitions import build_definitions

    tick = datetime(2026, 12, 2, 6, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    with dg.build_schedule_context(scheduled_execution_time=tick) as context:
        (request,) = ozg_monatlich(context)
    assert isinstance(request, dg.RunRequest), request
    # The snapshot's nationwide run; nach_bundesweit follows it with the Land runs.
    assert request.partition_key == "2026-12-01"
    assert request.run_key == "monatlich-2026-12-01"
    assert request.run_config == LIVE_RUN_CONFIG
    assert request.run_config["resources"]["ozg"]["config"]["mode"] == "live"
    assert request.tags == {"ozg/mode": "live", THEN_LANDS: "06", "ozg/trigger": "schedule"}
    # The live run config is valid for the job the schedule targets.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        definitions = build_definitions(Settings(data_dir=tmp_path))
    job = definitions.resolve_job_def(ozg_monatlich.job_name)
    assert job.name == NATIONWIDE_JOB and job.partitions_def == nationwide_partitions
    assert dg.validate_run_config(job, request.run_config)
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(job, {"resources": {"ozg": {"config": {"moed": "live"}}}})


def test_monthly_schedule_names_every_land_in_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_ozg_env(monkeypatch)
    monkeypatch.setenv("OZG_LAND", "09,05")
    tick = datetime(2027, 1, 2, 6, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    with dg.build_schedule_context(scheduled_execution_time=tick) as context:
        (request,) = ozg_monatlich(context)
    assert (request.partition_key, request.run_key) == ("2027-01-01", "monatlich-2027-01-01")
    assert request.tags[THEN_LANDS] == "09,05"  # in this order, one run each
    monkeypatch.setenv("OZG_LAND", "all")
    with dg.build_schedule_context(scheduled_execution_time=tick) as context:
        (every,) = ozg_monatlich(context)
    assert every.tags[THEN_LANDS].split(",") == [f"{n:02d}" for n in range(1, 17)]


def test_probe_fails_loudly_when_the_gv100ad_edition_is_missing() -> None:
    # A 404 on the edition must not be read as "no version" (a silent, stuck cursor).
    server, base = serve_in_thread(date(2026, 11, 1))
    try:
        settings = Settings(
            mode="live",
            dashboard_url=f"{base}/dashboard",
            destatis_url=f"{base}/kein-destatis",
            http=HttpSettings(min_interval=0, max_attempts=1),
        )
        with pytest.raises(SourceError, match=r"destatis_gv100ad: HTTP 404 on HEAD"):
            probe(settings, date(2026, 11, 1))
    finally:
        server.shutdown()
