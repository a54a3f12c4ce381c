"""The dbt warehouse without Dagster: where the dbt project, its manifest and the DuckDB
file are, how dbt is invoked, and what the marts mean.

``pipelines/dbt_project.py`` builds the Dagster ``DbtProject`` from these paths; the
domain packages (publication, reports) import this module instead, so they never load
Dagster. The mart definitions — model and column descriptions plus the column ``meta``
(English term, unit, formula, caveat) documented in ``dbt_project/models/marts/`` — are
read from one place, the dbt manifest, for the metric dictionary, the method page, the
figures' definitions and the workbook alike. ``generate_dbt_docs`` renders the whole
project (lineage, SQL, the warehouse catalog) as one static page next to the Metrikverzeichnis.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from sources.files import atomic_copy, atomic_write_text, hash_files

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"  # = DbtProject.manifest_path
DEFINITION_VERSIONS = DBT_PROJECT_DIR / "seeds" / "metric_definitions.csv"
WAREHOUSE_NAME = "ozg.duckdb"  # the DuckDB catalog is the file stem: keep it constant


def warehouse_path(data_dir: Path) -> Path:
    return Path(data_dir).resolve() / "warehouse" / WAREHOUSE_NAME


def dbt_docs_path(data_dir: Path) -> Path:
    """The static dbt docs site (one self-contained page), next to the Metrikverzeichnis."""
    return Path(data_dir).resolve() / "docs" / "dbt" / "index.html"


def dbt_environment(data_dir: Path) -> dict[str, str]:
    """Variables the dbt project reads (profiles.yml, sources). The marts cover every
    Land in the lake, so no Land is passed."""
    return {
        "OZG_DATA_DIR_ABS": str(Path(data_dir).resolve()),
        "OZG_DUCKDB_PATH": str(warehouse_path(data_dir)),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def dbt_executable() -> str:
    """dbt next to the running interpreter, so an un-activated virtualenv works too."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else (shutil.which("dbt") or "dbt")


# The data directory `ozg run` uses by default (``OZG_DATA_DIR``): the shared parse sees its
# environment, so the builds of that directory start from the shared partial-parse state.
DEFAULT_DATA_DIR = DBT_PROJECT_DIR.parent / "data"
PARTIAL_PARSE = "partial_parse.msgpack"


def ensure_manifest(*, force: bool = False) -> Path:
    """Parse the project when its manifest is missing (a fresh clone) or, with ``force``,
    when a project file changed since the last parse.

    The parse sees the environment of the default data directory (``dbt_environment``);
    builds of another directory keep a partial-parse state of their own
    (``parse_state_path``). (``DbtProject.preparer`` would look for ``dbt`` on PATH only.)"""
    from filelock import FileLock

    DBT_PROJECT_DIR.joinpath("target").mkdir(exist_ok=True)
    environment = dbt_environment(DEFAULT_DATA_DIR)
    stamp = DBT_PROJECT_DIR / "target" / ".parse-key"
    # Concurrent processes share target/: parse one at a time.
    with FileLock(str(DBT_PROJECT_DIR / "target" / ".parse.lock")):
        if MANIFEST_PATH.exists() and not force:
            return MANIFEST_PATH  # the definitions' import: no key to compute
        key = _parse_key(environment)
        if MANIFEST_PATH.exists() and stamp.exists() and stamp.read_text() == key:
            return MANIFEST_PATH
        stamp.unlink(missing_ok=True)
        _parse(environment)
        atomic_write_text(stamp, key)
    return MANIFEST_PATH


def _parse_key(environment: dict[str, str]) -> str:
    """What a parse depends on: every file of the dbt project (not its build output), the
    environment it sees and the dbt version. Equal keys give the same manifest, so a forced
    parse with an unchanged key is skipped (dbt's own start and partial-parse check take
    about 5 s)."""
    digest = hashlib.sha256(json.dumps(environment, sort_keys=True).encode())
    digest.update(version("dbt-core").encode())
    hash_files(
        digest, DBT_PROJECT_DIR, skip=("target", "logs", "dbt_packages"), names_from=DBT_PROJECT_DIR
    )
    return digest.hexdigest()


# What a parse leaves in target/ that later runs read (the partial-parse state makes the
# next parse fast).
PARSE_ARTIFACTS = (PARTIAL_PARSE, "manifest.json")


def _parse(environment: dict[str, str]) -> None:
    """Parse into a private target directory, then swap the artifacts into ``target/`` with
    atomic renames: processes reading the manifest meanwhile (another ``ozg run``, a test
    worker) see the old or the new file, never one half written."""
    target = DBT_PROJECT_DIR / "target"
    with _private_target("parse") as private:
        _run_dbt(["parse", "--quiet"], private, environment, "dbt parse")
        for name in PARSE_ARTIFACTS:  # the manifest last: it is what readers look for
            if (private / name).exists():
                os.replace(private / name, target / name)


def parse_state_path(data_dir: Path) -> Path:
    """dbt's partial-parse state for the builds of ``data_dir``.

    dbt discards the state when the profile changes, and the profile holds the warehouse
    path: with one shared state every build of another data directory (a test, a benchmark
    run) would parse the whole project again (about 8 s), and builds of two directories
    running side by side would keep discarding each other's state."""
    return Path(data_dir).resolve() / "warehouse" / "dbt" / PARTIAL_PARSE


def seed_parse_state(target: Path, data_dir: Path | None) -> None:
    """Give a fresh dbt target directory the partial-parse state of ``data_dir``, or the
    shared one without a directory or while it has none (its first build then parses in
    full once)."""
    own = parse_state_path(data_dir) if data_dir is not None else None
    state = own if own and own.exists() else DBT_PROJECT_DIR / "target" / PARTIAL_PARSE
    if state.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(state, target / PARTIAL_PARSE)


def keep_parse_state(target: Path, data_dir: Path, *, build: str | None = None) -> None:
    """After a dbt invocation in ``target``: its partial-parse state becomes the state of
    ``data_dir`` for the next invocation; with ``build`` (the build's name) its manifest is
    kept too, for the docs of the warehouse it built (``generate_dbt_docs``)."""
    state = target / PARTIAL_PARSE
    kept = parse_state_path(data_dir).parent
    kept.mkdir(parents=True, exist_ok=True)
    if state.exists():
        atomic_copy(state, kept / PARTIAL_PARSE)
    if build is not None and (target / "manifest.json").exists():
        atomic_copy(target / "manifest.json", kept / f"manifest-{build}.json")


def built_manifest(data_dir: Path) -> dict[str, Any] | None:
    """The manifest of the builds that made the warehouse of ``data_dir``, with the SQL each
    node was compiled to: the first build's manifest (the builds sort by name, the main one
    first), completed by the nodes a later build compiled. None before the first build."""
    paths = sorted(parse_state_path(data_dir).parent.glob("manifest-*.json"))
    if not paths:
        return None
    merged = json.loads(paths[0].read_text(encoding="utf-8"))
    for path in paths[1:]:
        for unique_id, node in json.loads(path.read_text(encoding="utf-8"))["nodes"].items():
            if node.get("compiled") and not merged["nodes"].get(unique_id, {}).get("compiled"):
                merged["nodes"][unique_id] = node
    return merged


def generate_dbt_docs(data_dir: Path) -> Path:
    """``dbt docs generate --static`` over the built warehouse of ``data_dir``: the project's
    documentation with the warehouse catalog, manifest and catalog embedded in one page (no
    server needed), written atomically to ``dbt_docs_path(data_dir)``.

    dbt opens the warehouse read-write, which DuckDB's lock allows only while no other
    process has the file open: call it after the build (which releases its handle), in the
    ``duckdb`` pool. It runs in a private target directory (other runs and readers share
    ``target/``) with the build's environment, so dbt's partial-parse state still holds."""
    with _private_target("docs", data_dir) as private:
        # The builds' own manifest holds the SQL they ran: dbt then only reads the catalog
        # instead of compiling every node again (about 6 s).
        manifest = built_manifest(data_dir)
        if manifest is not None:
            (private / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        _run_dbt(
            ["docs", "generate", "--static", "--quiet", *(["--no-compile"] if manifest else [])],
            private,
            dbt_environment(data_dir),
            "dbt docs",
        )
        page = private / "static_index.html"
        if not page.exists():
            raise RuntimeError("dbt docs generate wrote no static_index.html")
        return atomic_copy(page, dbt_docs_path(data_dir))


def run_dbt(
    args: list[str], environment: dict[str, str], *, target: str | None = None, what: str = "dbt"
) -> dict[str, Any]:
    """dbt ``args`` with ``--target target`` (without: the profile's default, DuckDB) in a
    private target directory, so the shared ``target/`` keeps the DuckDB build's manifest and
    partial-parse state; returns dbt's ``run_results.json``. A failure raises RuntimeError
    naming each failing node with dbt's message (pipelines/postgres/lake_load.py)."""
    with _private_target(target or "dbt") as private:
        try:
            _run_dbt([*args, *(["--target", target] if target else [])], private, environment, what)
        except RuntimeError:
            failed = _failed_nodes(private / "run_results.json")
            if not failed:
                raise
            raise RuntimeError(f"{what} failed: " + "; ".join(failed)) from None
        return json.loads((private / "run_results.json").read_text(encoding="utf-8"))


def _failed_nodes(run_results: Path) -> list[str]:
    if not run_results.exists():
        return []
    results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    return [
        f"{r['unique_id']}: {' '.join(str(r.get('message') or r['status']).split())[:400]}"
        for r in results
        if r["status"] in ("error", "fail", "runtime error")
    ]


@contextmanager
def _private_target(purpose: str, data_dir: Path | None = None) -> Iterator[Path]:
    """A fresh target directory under ``target/`` seeded with the partial-parse state (of
    ``data_dir`` when given, its state kept afterwards), so concurrent dbt invocations never
    share artifacts; removed afterwards."""
    target = DBT_PROJECT_DIR / "target"
    target.mkdir(exist_ok=True)
    private = target / f".{purpose}-{uuid.uuid4().hex[:8]}"
    private.mkdir()
    try:
        seed_parse_state(private, data_dir)
        yield private
        if data_dir is not None:
            keep_parse_state(private, data_dir)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _run_dbt(args: list[str], target: Path, environment: dict[str, str], what: str) -> None:
    command = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
    ]
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **environment}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed: {(done.stdout + done.stderr).strip()[-500:]}")


# -- mart definitions ---------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnDefinition:
    mart: str
    column: str
    description: str
    begriff_en: str
    einheit: str
    formel: str
    hinweis: str
    data_type: str


@dataclass(frozen=True)
class MartDefinition:
    name: str
    description: str
    grain: tuple[str, ...] | None  # the columns of its unique_combination test
    columns: dict[str, ColumnDefinition]  # in documentation order


def mart_definitions(manifest_path: Path | None = None) -> dict[str, MartDefinition]:
    """Every model of schema ``marts`` by name (sorted), from the dbt manifest; without a
    path, the project's manifest (parsed first if missing)."""
    if manifest_path is not None:
        path = Path(manifest_path)
    else:
        path = MANIFEST_PATH if MANIFEST_PATH.exists() else ensure_manifest()
    stat = path.stat()
    return _read_definitions(path, stat.st_mtime_ns, stat.st_size)


@cache
def _read_definitions(path: Path, mtime_ns: int, size: int) -> dict[str, MartDefinition]:
    # (mtime_ns, size) key the cache: a re-parsed manifest is read again.
    nodes = json.loads(path.read_text(encoding="utf-8"))["nodes"]
    marts = [
        _mart(node, nodes)
        for node in nodes.values()
        if node["resource_type"] == "model" and node["config"].get("schema") == "marts"
    ]
    return {m.name: m for m in sorted(marts, key=lambda m: m.name)}


def _mart(node: dict[str, Any], nodes: dict[str, Any]) -> MartDefinition:
    grain = next(
        (
            t["test_metadata"]["kwargs"].get("combination_of_columns")
            for t in nodes.values()
            if t["resource_type"] == "test"
            and t.get("attached_node") == node["unique_id"]
            and t.get("test_metadata", {}).get("name") == "unique_combination"
        ),
        None,
    )
    columns = {}
    for name, column in node["columns"].items():
        meta = column.get("meta") or {}
        columns[name] = ColumnDefinition(
            mart=node["name"],
            column=name,
            description=(column.get("description") or "").strip(),
            begriff_en=meta.get("begriff_en") or "",
            einheit=meta.get("einheit") or "",
            formel=meta.get("formel") or "",
            hinweis=meta.get("hinweis") or "",
            data_type=column.get("data_type") or "",
        )
    return MartDefinition(
        name=node["name"],
        description=(node.get("description") or "").strip(),
        grain=tuple(grain) if grain else None,
        columns=columns,
    )


def column(mart: str, name: str) -> ColumnDefinition:
    """Definition of ``mart.name``; a KeyError names a figure without documentation."""
    return mart_definitions()[mart].columns[name]


def definition_versions() -> list[dict[str, str]]:
    """The metric definition versions, as listed in the seed ``metric_definitions.csv``."""
    with open(DEFINITION_VERSIONS, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
