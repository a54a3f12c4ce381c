"""``ozg run`` end to end, as an operator calls it: a subprocess per run.

Three full runs (sample twice, live once against the sample server) plus one live run
that fails against a closed port. The failing run spends most of its time waiting for
Dagster's step retries, so it is started first and runs alongside the others; it is
collected by the last test.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from dagster_history import (
    data_versions,
    job_runs,
    materializations,
    materialized_keys,
    run_tags,
    step_seconds,
)

from pipelines.cli import PUBLICATION_UNCHANGED
from pipelines.publication.inputs import read_inputs
from pipelines.publication.publish import current_publication
from sources.sample.server import serve_in_thread

pytestmark = pytest.mark.slow

OZG = Path(sys.executable).parent / "ozg"
SNAPSHOT = "2026-11-01"
SOURCES = ("destatis_gv100ad", "dashboard", "pvog", "fim")
PREFIXES = {
    "destatis_gv100ad": "/destatis",
    "dashboard": "/dashboard",
    "pvog": "/pvog",
    "fim": "/fim",
}
TABLES = ("gebiete", "leistungen", "verfuegbarkeit", "onlinedienste")
FULL_RUN_TIMEOUT = 900
# A partition's line: a Land × snapshot one, or a snapshot's nationwide one (Land "bundesweit").
ROW_LINE = re.compile(r"^\s+(\d{2}|bundesweit)\|(\d{4}-\d{2}-\d{2})\s+[\d.]+s\s+rows: (.+)$")
# A heartbeat line of the progress display: what runs, then "1m05s vergangen, noch ~2m10s".
HEARTBEAT = re.compile(r"^  … \S.* · \d+(s|m\d\ds|h\d\dm) vergangen(, noch (mindestens )?~\S+)?$")
LAND = "06"
PARTITION = f"{LAND}|{SNAPSHOT}"  # Dagster's multi-partition key: Land|snapshot
NATIONWIDE = ("destatis_gv100ad", "fim")  # partitioned by snapshot only


def partition_of(source: str) -> str:
    """The partition key of a raw asset's materialisation in a run of SNAPSHOT."""
    return SNAPSHOT if source in NATIONWIDE else PARTITION


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without OZG_* and DAGSTER_HOME (the CLI's defaults apply)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OZG_") and k != "DAGSTER_HOME"}
    env["OZG_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def run_ozg(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120) -> Run:
    started = time.monotonic()
    done = subprocess.run(
        [str(OZG), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def describe(run: Run) -> str:
    return (
        f"exit {run.returncode}\n--- stdout\n{run.stdout[-3000:]}\n--- stderr\n{run.stderr[-3000:]}"
    )


def row_counts(stdout: str, snapshot: str = SNAPSHOT, land: str = LAND) -> dict[str, int]:
    """The rows of a Land × snapshot partition and of its snapshot's nationwide partition,
    from their lines ``  bundesweit|2026-11-01    1.4s  rows: destatis_gv100ad 16,000, fim 394``
    and ``  06|2026-11-01   20.1s  rows: gebiete 15,988, …`` (the nationwide one first)."""
    found: dict[str, dict[str, int]] = {}
    for number, line in enumerate(stdout.splitlines()):
        match = ROW_LINE.match(line)
        if match and match.group(2) == snapshot and match.group(1) in (land, "bundesweit"):
            counts = {"_line": number}
            for part in match.group(3).split(", "):
                name, count = part.rsplit(" ", 1)
                counts[name] = int(count.replace(",", ""))
            found.setdefault(match.group(1), counts)
    if set(found) != {land, "bundesweit"}:
        raise AssertionError(f"no row-count lines for {land}|{snapshot} in:\n{stdout[-3000:]}")
    assert found["bundesweit"].pop("_line") < found[land].pop("_line"), stdout[-3000:]
    assert not found["bundesweit"].keys() & found[land].keys()
    return {**found["bundesweit"], **found[land]}


def printed_path(stdout: str, label: str) -> Path:
    line = next((ln for ln in stdout.splitlines() if ln.strip().startswith(label)), None)
    assert line is not None, f"no {label!r} line in:\n{stdout[-3000:]}"
    return Path(line.split(label, 1)[1].split()[0])


def raw_source_dir(data_dir: Path, source: str) -> Path:
    """Dashboard and PVOG land per Land; GV100AD and FIM once per snapshot for all Länder."""
    if source in ("dashboard", "pvog"):
        return data_dir / "raw" / f"land={LAND}" / source
    return data_dir / "raw" / source


def manifest(data_dir: Path, source: str) -> dict[str, object]:
    return json.loads(
        (raw_source_dir(data_dir, source) / SNAPSHOT / "manifest.json").read_text("utf-8")
    )


def raw_files(data_dir: Path) -> dict[str, tuple[int, int]]:
    """Every file under the raw landing with its (mtime_ns, size)."""
    root = data_dir / "raw"
    return {
        str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- the failing live run, started first ------------------------------------------------------
@dataclass
class PendingRun:
    process: subprocess.Popen[bytes]
    data_dir: Path
    base: str
    stdout_path: Path
    stderr_path: Path
    started: float

    def result(self) -> Run:
        self.process.wait(timeout=FULL_RUN_TIMEOUT)
        return Run(
            self.process.returncode,
            self.stdout_path.read_text("utf-8"),
            self.stderr_path.read_text("utf-8"),
            time.monotonic() - self.started,
        )


@pytest.fixture(scope="module", autouse=True)
def unreachable_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PendingRun]:
    root = tmp_path_factory.mktemp("cli-unreachable")
    data_dir = root / "data"
    base = f"http://127.0.0.1:{closed_port()}"
    env = cli_env(
        data_dir,
        OZG_DASHBOARD_URL=f"{base}/dashboard",
        OZG_PVOG_URL=f"{base}/pvog",
        OZG_FIM_URL=f"{base}/fim",
        OZG_DESTATIS_URL=f"{base}/destatis",
        OZG_PVOG_ARS="000000000000",
        OZG_HTTP_MAX_ATTEMPTS="1",
        OZG_HTTP_DEADLINE="5",
    )
    stdout_path, stderr_path = root / "stdout.txt", root / "stderr.txt"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        process = subprocess.Popen(
            [str(OZG), "run", "--mode", "live", "--snapshot", SNAPSHOT],
            env=env,
            cwd=root,
            stdout=out,
            stderr=err,
        )
    pending = PendingRun(process, data_dir, base, stdout_path, stderr_path, time.monotonic())
    # Every run parses the shared dbt project first; let this one get past that (its run
    # log appears) before another CLI process starts, so they never parse concurrently.
    deadline = time.monotonic() + 180
    runs = data_dir / "dagster" / "history" / "runs"
    while time.monotonic() < deadline and process.poll() is None:
        if any(p.stem != "index" for p in runs.glob("*.db")):
            break
        time.sleep(0.2)
    try:
        yield pending
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# -- sample mode -------------------------------------------------------------------------------
@dataclass
class SampleRuns:
    data_dir: Path
    first: Run
    second: Run
    manifests_after_first: dict[str, bytes]
    files_after_first: dict[str, tuple[int, int]]
    files_after_second: dict[str, tuple[int, int]]
    # (recorded publication inputs, version ``current`` points at) after each run
    publication_after_first: tuple[str | None, str]
    publication_after_second: tuple[str | None, str]


def publication(data_dir: Path) -> tuple[str | None, str]:
    return (
        read_inputs(current_publication(data_dir)),
        os.readlink(current_publication(data_dir)),
    )


@pytest.fixture(scope="module")
def sample_runs(tmp_path_factory: pytest.TempPathFactory) -> SampleRuns:
    root = tmp_path_factory.mktemp("cli-sample")
    data_dir = root / "data"
    env = cli_env(data_dir)
    args = ["run", "--snapshot", SNAPSHOT]
    first = run_ozg(args, env, root, FULL_RUN_TIMEOUT)
    assert first.returncode == 0, describe(first)
    manifests = {
        s: (raw_source_dir(data_dir, s) / SNAPSHOT / "manifest.json").read_bytes() for s in SOURCES
    }
    files_after_first = raw_files(data_dir)
    publication_after_first = publication(data_dir)
    second = run_ozg(args, env, root, FULL_RUN_TIMEOUT)
    assert second.returncode == 0, describe(second)
    return SampleRuns(
        data_dir,
        first,
        second,
        manifests,
        files_after_first,
        raw_files(data_dir),
        publication_after_first,
        publication(data_dir),
    )


def test_second_sample_run_skips_the_unchanged_publication(sample_runs: SampleRuns) -> None:
    """Nothing dbt, publication and the reports read changed: the second run skips them
    and the publication stays the same version. (A colleague editing the code between the
    two runs changes the inputs: then the second run must have published anew.)"""
    first, second = sample_runs.publication_after_first, sample_runs.publication_after_second
    assert first[0] is not None and second[0] is not None
    if first[0] == second[0]:
        assert PUBLICATION_UNCHANGED in sample_runs.second.stdout, describe(sample_runs.second)
        assert second[1] == first[1]
        assert sample_runs.second.seconds < sample_runs.first.seconds / 2
    else:
        print("publication inputs changed between the runs (code edited): published anew")
        assert PUBLICATION_UNCHANGED not in sample_runs.second.stdout
        assert second[1] != first[1]
    assert PUBLICATION_UNCHANGED not in sample_runs.first.stdout


def test_sample_run_prints_banner_rows_and_output_locations(sample_runs: SampleRuns) -> None:
    out = sample_runs.first.stdout
    banner = out.splitlines()[0]
    assert banner.startswith("ozg run · mode sample · Land 06 · 1 snapshot(s)")
    assert "SAMPLE" in banner and "synthetic" in banner
    counts = row_counts(out)
    assert set(counts) == {*SOURCES, *TABLES}
    assert all(count > 0 for count in counts.values()), counts
    data_dir = sample_runs.data_dir.resolve()
    assert printed_path(out, "raw landing:") == data_dir / "raw"
    assert printed_path(out, "normalised:") == data_dir / "normalized"
    # DAGSTER_HOME was unset: the run history lives under the data directory.
    assert printed_path(out, "Dagster home:") == data_dir / "dagster"
    assert (data_dir / "dagster" / "dagster.yaml").is_file()
    assert "FAILED" not in sample_runs.first.stderr
    # Piped (no terminal): heartbeat lines of the progress display between the others,
    # none redrawn in place; the dbt build (far longer than 10 s) shows in at least one.
    assert "\r" not in out and "\x1b[" not in out
    heartbeats = [line for line in out.splitlines() if line.startswith("  … ")]
    assert heartbeats, out
    for line in heartbeats:
        assert HEARTBEAT.match(line), line
    assert any(" · ozg_dbt · " in line for line in heartbeats), heartbeats


def test_ozg_run_materialises_the_asset_graph_of_the_definitions(
    sample_runs: SampleRuns,
) -> None:
    """`ozg run` runs the code location's jobs, nothing of its own: every asset of the
    definitions' graph was materialised (the partitioned ones for the requested
    partition), nothing else was, once per run, and by the two jobs the UI offers."""
    import dagster as dg

    from pipelines.definitions import build_definitions
    from pipelines.jobs import INGEST_JOB, NATIONWIDE_JOB, PUBLISH_JOB
    from sources.config import Settings

    graph = build_definitions(Settings(data_dir=sample_runs.data_dir)).resolve_asset_graph()

    def partitions(key):  # type: ignore[no-untyped-def]
        partitions_def = graph.get(key).partitions_def
        if partitions_def is None:
            return {""}
        return {PARTITION if isinstance(partitions_def, dg.MultiPartitionsDefinition) else SNAPSHOT}

    expected = {key.to_user_string(): partitions(key) for key in graph.materializable_asset_keys}
    assert len(expected) > 30 and any(k.startswith("marts/") for k in expected)
    assert {k for k, v in expected.items() if v == {SNAPSHOT}} == {
        f"raw/{source}" for source in NATIONWIDE
    }
    assert materialized_keys(sample_runs.data_dir) == expected
    # Two `ozg run`s: each ran the nationwide ingest job for its snapshot, the Land × snapshot
    # ingest job for its one partition, then the publish job.
    assert job_runs(sample_runs.data_dir) == [
        (NATIONWIDE_JOB, SNAPSHOT),
        (INGEST_JOB, PARTITION),
        (PUBLISH_JOB, None),
        (NATIONWIDE_JOB, SNAPSHOT),
        (INGEST_JOB, PARTITION),
        (PUBLISH_JOB, None),
    ]


def test_sample_run_lands_every_source_with_a_sample_manifest(sample_runs: SampleRuns) -> None:
    counts = row_counts(sample_runs.first.stdout)
    for source in SOURCES:
        snapshots = sorted(p.name for p in raw_source_dir(sample_runs.data_dir, source).iterdir())
        assert snapshots == [SNAPSHOT], source  # only the requested snapshot was landed
        landed = manifest(sample_runs.data_dir, source)
        assert landed["sample"] is True and landed["mode"] == "sample", source
        assert (landed["source"], landed["snapshot"]) == (source, SNAPSHOT)
        entries = landed["entries"]
        assert isinstance(entries, list) and entries, source
        assert landed["entry_count"] == len(entries)
        for entry in entries:
            assert (
                raw_source_dir(sample_runs.data_dir, source) / SNAPSHOT / f"{entry['name']}.gz"
            ).is_file()
        summary = landed["summary"]
        assert isinstance(summary, dict)
        assert counts[source] == summary.get("rows", summary.get("records")), source


def test_sample_run_promotes_the_normalised_partitions(sample_runs: SampleRuns) -> None:
    counts = row_counts(sample_runs.first.stdout)
    for table in TABLES:
        path = (
            sample_runs.data_dir
            / "normalized"
            / table
            / "land=06"
            / f"snapshot={SNAPSHOT}"
            / "data.parquet"
        )
        assert path.is_file(), path
        frame = pl.read_parquet(path)
        assert frame.height == counts[table], table


def _raw_materializations(data_dir: Path) -> tuple[dict[str, list[dict[str, object]]], dict]:
    """Per raw asset, the metadata of its materialisations of SNAPSHOT (oldest first), and
    per run id the seconds its raw steps took."""
    metadata: dict[str, list[dict[str, object]]] = {}
    for source in SOURCES:
        metadata[source] = [
            {**values, "run_id": run_id}
            for run_id, values in materializations(data_dir, ["raw", source], partition_of(source))
        ]
    raw_seconds: dict[str, float] = {}
    for run_id in {str(m["run_id"]) for ms in metadata.values() for m in ms}:
        assert run_tags(data_dir, run_id).get("ozg/mode") == "sample"
        raw_seconds[run_id] = step_seconds(data_dir, run_id, "raw__")
    return metadata, raw_seconds


def test_second_sample_run_reuses_the_raw_landing(sample_runs: SampleRuns) -> None:
    data_dir = sample_runs.data_dir
    for source in SOURCES:
        manifest_path = raw_source_dir(data_dir, source) / SNAPSHOT / "manifest.json"
        assert manifest_path.read_bytes() == sample_runs.manifests_after_first[source], source
    # No raw file written, rewritten or removed by the second run.
    assert sample_runs.files_after_second == sample_runs.files_after_first
    assert row_counts(sample_runs.second.stdout) == row_counts(sample_runs.first.stdout)

    metadata, raw_seconds = _raw_materializations(data_dir)
    first_run_ids = set()
    second_run_ids = set()
    for source in SOURCES:
        first, second = metadata[source]  # exactly one materialisation per run
        assert first["reused"] is False and first["fetched_now"] > 0, (source, first)
        assert second["reused"] is True and second["fetched_now"] == 0, (source, second)
        assert (first["mode"], first["sample"]) == ("sample", True)
        assert first["rows"] == second["rows"]
        # A nationwide landing belongs to no Land.
        assert ("land" in first) is (source not in NATIONWIDE), (source, first)
        first_run_ids.add(first["run_id"])
        second_run_ids.add(second["run_id"])
    # Each `ozg run` landed in two Dagster runs: the nationwide one and the Land's.
    assert len(first_run_ids) == 2 and len(second_run_ids) == 2
    assert not first_run_ids & second_run_ids
    # Reusing the landing makes the raw steps faster than landing the snapshot was.
    first_seconds = sum(raw_seconds[str(run_id)] for run_id in first_run_ids)
    second_seconds = sum(raw_seconds[str(run_id)] for run_id in second_run_ids)
    assert second_seconds < first_seconds, raw_seconds


def test_assets_carry_dagsters_standard_table_metadata(sample_runs: SampleRuns) -> None:
    import duckdb

    data_dir = sample_runs.data_dir
    metadata, _ = _raw_materializations(data_dir)
    for source in SOURCES:
        first, second = metadata[source]
        assert first["dagster/row_count"] == first["rows"] == second["dagster/row_count"] > 0
        # The data version is the landing manifest's hash: a reused landing keeps it.
        versions = data_versions(data_dir, ["raw", source], partition_of(source))
        assert len(versions) == 2 and versions[0] == versions[1] != "", (source, versions)
    published = data_dir / "published" / "ozg.duckdb"
    with duckdb.connect(str(published), read_only=True) as connection:
        for mart in ("mart_pilotvergleich", "mart_verfuegbarkeit_kommune", "mart_datenqualitaet"):
            (_, latest), *_ = reversed(materializations(data_dir, ["marts", mart]))
            (rows,) = connection.execute(f"select count(*) from marts.{mart}").fetchone()  # type: ignore[misc]
            assert latest["dagster/row_count"] == rows, mart
            columns = [c[0] for c in connection.execute(f"describe marts.{mart}").fetchall()]
            schema = latest["dagster/column_schema"]
            assert [column.name for column in schema.columns] == columns, mart


# -- live mode against the sample server --------------------------------------------------
@dataclass
class LiveRun:
    data_dir: Path
    base: str
    run: Run


@pytest.fixture(scope="module")
def live_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRun]:
    root = tmp_path_factory.mktemp("cli-live")
    data_dir = root / "data"
    server, base = serve_in_thread(date(2026, 11, 1))
    try:
        env = cli_env(
            data_dir,
            OZG_DASHBOARD_URL=f"{base}/dashboard",
            OZG_PVOG_URL=f"{base}/pvog",
            OZG_FIM_URL=f"{base}/fim",
            OZG_DESTATIS_URL=f"{base}/destatis",
            OZG_PVOG_ARS="000000000000",
            OZG_HTTP_MIN_INTERVAL="0",
        )
        run = run_ozg(
            ["run", "--mode", "live", "--snapshot", SNAPSHOT], env, root, FULL_RUN_TIMEOUT
        )
    finally:
        server.shutdown()
        server.server_close()
    yield LiveRun(data_dir, base, run)


def test_live_run_against_the_sample_server(live_run: LiveRun) -> None:
    run = live_run.run
    assert run.returncode == 0, describe(run)
    banner = run.stdout.splitlines()[0]
    assert banner.startswith("ozg run · mode live · Land 06 · 1 snapshot(s)")
    assert "LIVE" in banner and "SAMPLE" not in banner
    assert set(row_counts(run.stdout)) == {*SOURCES, *TABLES}
    assert live_run.base.startswith("http://127.0.0.1:")
    for source in SOURCES:
        landed = manifest(live_run.data_dir, source)
        assert landed["mode"] == "live" and landed["sample"] is False, source
        entries = landed["entries"]
        assert isinstance(entries, list) and entries, source
        for entry in entries:
            assert entry["url"].startswith(f"{live_run.base}{PREFIXES[source]}/"), entry["url"]
            assert entry["status"] == 200
    for table in TABLES:
        path = (
            live_run.data_dir
            / "normalized"
            / table
            / "land=06"
            / f"snapshot={SNAPSHOT}"
            / "data.parquet"
        )
        assert path.is_file(), path


def test_live_over_http_lands_the_same_rows_as_sample_mode(
    live_run: LiveRun, sample_runs: SampleRuns
) -> None:
    # The sample server answers in each API's wire format with the sample's data, and
    # OZG_PVOG_ARS limits PVOG to the Bund export as in sample mode.
    assert live_run.run.returncode == 0, describe(live_run.run)
    assert row_counts(live_run.run.stdout) == row_counts(sample_runs.first.stdout)


# -- failures ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("snapshot", "expected"),
    [
        ("2027-05-01", ("2025-12-01", "2026-11-01", "2027-05-01", "only")),
        ("2026-11-15", ("2026-11-15", "not the first day of a month")),
    ],
)
def test_a_snapshot_outside_the_sample_fails_fast(
    tmp_path: Path, snapshot: str, expected: tuple[str, ...]
) -> None:
    data_dir = tmp_path / "data"
    run = run_ozg(["run", "--snapshot", snapshot], cli_env(data_dir), tmp_path)
    assert run.returncode != 0, describe(run)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("ozg: FAILED: ")
    for fragment in expected:
        assert fragment in lines[0]
    assert run.stdout == ""  # refused before the banner, the Dagster home or any landing
    assert not data_dir.exists()


@pytest.mark.parametrize(
    ("land", "expected"),
    [
        ("6", "Land must be a two-digit code 01–16, a comma-separated list or 'all', not '6'"),
    ],
)
def test_a_land_outside_the_sample_is_refused_with_the_reason(
    tmp_path: Path, land: str, expected: str
) -> None:
    data_dir = tmp_path / "data"
    run = run_ozg(["run", "--land", land], cli_env(data_dir), tmp_path)
    assert run.returncode == 1, describe(run)
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith(f"ozg: FAILED: {expected}"), line
    assert run.stdout == ""
    assert not data_dir.exists()


def test_help() -> None:
    top = subprocess.run([str(OZG), "--help"], capture_output=True, text=True, check=False)
    assert top.returncode == 0, top.stderr
    assert top.stdout.startswith("usage: ozg")
    assert "run" in top.stdout
    run = subprocess.run([str(OZG), "run", "--help"], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("usage: ozg run")
    for option in ("--mode", "{sample,live}", "--land", "--snapshot", "--force-refetch"):
        assert option in run.stdout
    missing = subprocess.run([str(OZG)], capture_output=True, text=True, check=False)
    assert missing.returncode == 2
    assert "usage: ozg" in missing.stderr


def test_unreachable_live_source_fails_with_one_line_naming_source_and_url(
    unreachable_run: PendingRun,
) -> None:
    run = unreachable_run.result()
    assert run.returncode != 0, describe(run)
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines, describe(run)
    last = lines[-1]
    assert last.startswith("ozg: FAILED: "), describe(run)
    assert [line for line in lines if "ozg: FAILED" in line] == [last]
    assert SNAPSHOT in last
    match = re.search(r"raw__(\w+):", last)
    assert match is not None, last
    source = match.group(1)
    assert source in SOURCES, last
    assert f"{unreachable_run.base}{PREFIXES[source]}/" in last  # URL on the same line
    assert f"{source}: " in last.split(f"raw__{source}:", 1)[1]  # the error names its source
    assert "mode live" in run.stdout and "done in" not in run.stdout
    # The console shows the reason and where the full log is, no Dagster traceback (one
    # attempt per request: no retry lines either); the log file has the traceback.
    assert lines == [last], describe(run)
    assert "Traceback" not in run.stderr + run.stdout
    assert "Stack Trace" not in run.stderr + run.stdout
    log_match = re.search(r" \(Protokoll: (/\S+\.log)\)$", last)
    assert log_match is not None, last
    log = Path(log_match.group(1))
    assert log.parent == (unreachable_run.data_dir / "logs").resolve()
    full_log = log.read_text("utf-8")
    assert "STEP_FAILURE" in full_log and "Stack Trace" in full_log
    assert f"raw__{source}" in full_log
    # Progress lines, if the run lasted long enough for a heartbeat, went to stdout.
    assert all(line.startswith("  … ") for line in run.stdout.splitlines()[1:]), run.stdout
    # Nothing was completed: no manifest anywhere in the raw landing.
    assert not list((unreachable_run.data_dir / "raw").rglob("manifest.json"))
