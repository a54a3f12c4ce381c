"""The container image definition (``Containerfile``, docs/deployment.md).

No container engine runs here, so the image is not built; what can be checked is checked:
the build installs exactly the lock, and its manifest step — run as written, on the files
the build context holds — prepares a dbt manifest from which the code location loads
without parsing again.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = ROOT / "Containerfile"
VENV_BIN = Path(sys.executable).parent


def run_commands() -> list[str]:
    """The shell commands of the ``RUN`` instructions, continuation lines joined."""
    text = CONTAINERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.strip()[4:].strip() for line in text.splitlines() if line.startswith("RUN ")]


def build_context(target: Path) -> Path:
    """The tracked files minus ``.dockerignore``: what ``docker build .`` sends."""
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, tracked.split("\0")):
        parts = Path(name).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch(p, pattern) for p in prefixes for pattern in ignored):
            continue
        if not (ROOT / name).exists():
            continue  # deleted in the work tree, not yet committed
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    return target


def test_the_image_installs_exactly_the_lock() -> None:
    syncs = [c for c in run_commands() if c.startswith("uv sync")]
    assert len(syncs) == 2, syncs  # the dependencies layer, then the project
    for command in syncs:
        assert "--locked" in shlex.split(command), command
        assert "--extra" not in command, command  # no dev tools in the image
    assert '"uv==0.13.8"' in CONTAINERFILE.read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert '"uv==0.13.8"' in makefile  # the same uv as `make`


@pytest.mark.slow  # a dbt parse and a fresh import of the code location (~40 s)
def test_the_manifest_step_prepares_what_the_code_location_loads(tmp_path: Path) -> None:
    (prepare,) = [c for c in run_commands() if c.startswith("dagster-dbt ")]
    context = build_context(tmp_path / "app")
    manifest = context / "dbt_project" / "target" / "manifest.json"
    assert not manifest.exists()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OZG_", "DAGSTER_HOME"))},
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(context),
        "OZG_DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        shlex.split(prepare), cwd=context, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert manifest.is_file()
    prepared = manifest.stat().st_mtime_ns
    load = (
        "import pipelines.definitions as d, pipelines.warehouse as w; "
        "print(w.MANIFEST_PATH); "
        "print(len(list(d.build_definitions(d.Settings.from_env()).resolve_all_asset_keys())))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", load], cwd=context, env=env, capture_output=True, text=True
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    manifest_path, asset_count = loaded.stdout.split()
    assert Path(manifest_path) == manifest  # the copy's manifest, not the repository's
    assert int(asset_count) > 20
    assert manifest.stat().st_mtime_ns == prepared  # loaded as prepared: no parse at import
