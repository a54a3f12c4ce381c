"""The package layout: each layer imports only the layers before it, domain code never
loads Dagster, and the glue agrees with it."""

from __future__ import annotations

import ast
import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

import pipelines
import sources

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The Dagster glue and the CLI; every other module of pipelines/ is domain code.
GLUE = {
    "cli",
    "dbt_project",
    "definitions",
    "defs",
    "jobs",
    "partitions",
    "resources",
    "run_recovery",
}
# raw → normalised (validated by quality, stored in the lake) → warehouse → analysis (reads
# the warehouse, its output goes back through dbt) → published → reports; html serves every
# page. A module may import its own layer and lower ones.
LAYERS = {
    "sources": 0,
    "pipelines.html": 1,
    "pipelines.lake": 1,
    "pipelines.locking": 1,
    "pipelines.progress": 1,  # the console display of `ozg run`; reads sources' records
    "pipelines.quality": 2,
    "pipelines.normalisation": 3,
    "pipelines.warehouse": 4,
    "pipelines.analysis": 4.5,
    # PostgreSQL beside DuckDB: loads the lake for the dbt build (warehouse) and is the
    # second target of publication, which imports it.
    "pipelines.postgres": 4.7,
    "pipelines.publication": 5,
    "pipelines.reports": 6,
}


def domain_modules() -> list[str]:
    names = [
        info.name
        for info in pkgutil.walk_packages(pipelines.__path__, "pipelines.")
        if info.name.split(".")[1] not in GLUE
    ]
    names += [info.name for info in pkgutil.walk_packages(sources.__path__, "sources.")]
    return sorted(names)


def test_the_domain_packages_are_found() -> None:
    found = set(domain_modules())
    for package in (
        "normalisation",
        "quality",
        "analysis",
        "postgres",
        "publication",
        "reports",
        "html",
    ):
        assert f"pipelines.{package}" in found
    assert {"pipelines.lake", "pipelines.warehouse", "sources.files"} <= found
    assert not any(name.split(".")[1] in GLUE for name in found if name.startswith("pipelines."))


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[0] if parts[0] == "sources" else ".".join(parts[:2])


def imported(module: str) -> set[str]:
    """The project modules ``module`` imports (absolute imports; the project uses no others)."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {n for n in names if n.split(".")[0] in ("pipelines", "sources") and n != "pipelines"}


def test_each_layer_imports_only_the_layers_before_it() -> None:
    found = []
    for module in domain_modules():
        own = LAYERS[layer(module)]
        for name in imported(module):
            other = layer(name)
            if other.split(".")[-1] in GLUE or LAYERS.get(other, own) > own:
                found.append(f"{module} imports {name}")
    assert not found, "\n".join(found)


def test_domain_code_imports_no_dagster() -> None:
    """In a fresh interpreter: import every domain module, then look for Dagster."""
    modules = domain_modules()
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'dagster_dbt')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_dagster_dbt_project_uses_the_plain_paths() -> None:
    from pipelines.dbt_project import dbt_project
    from pipelines.warehouse import DBT_PROJECT_DIR, MANIFEST_PATH

    assert Path(dbt_project.project_dir) == DBT_PROJECT_DIR
    assert Path(dbt_project.manifest_path) == MANIFEST_PATH


def test_each_table_fingerprints_the_code_it_is_built_with() -> None:
    from pipelines.normalisation.tables import CODE_FILES, RAW_INPUTS

    assert set(CODE_FILES) == set(RAW_INPUTS)
    for files in CODE_FILES.values():
        assert all(path.is_file() for path in files)
        names = [path.relative_to(PROJECT_ROOT).as_posix() for path in files]
        assert names[:6] == [
            "pipelines/normalisation/rules.py",
            "pipelines/normalisation/normalize.py",
            "pipelines/normalisation/gate.py",
            "pipelines/quality/suites.py",
            "pipelines/normalisation/tables.py",
            "pipelines/lake.py",
        ]
    parsers = {
        table: {p.name for p in files if p.parent.name == "sources"} - {"ingest.py", "contract.py"}
        for table, files in CODE_FILES.items()
    }
    assert parsers == {
        "gebiete": {"destatis.py"},
        "leistungen": {"fim.py", "dashboard.py", "pvog.py"},
        "verfuegbarkeit": {"dashboard.py"},
        "onlinedienste": {"pvog.py"},
    }
