"""What a publication was built from, so that a run whose inputs did not change since the
last complete publication skips dbt, the analysis, the docs, publication and the reports.

The *publication inputs* of a data directory are one sha256 over

* every file the dbt sources read: the promoted partitions of the lake with their
  companions (``normalized/``, ``quarantine/``, ``quality/unknown_fields/``), as path, size
  and modification time — a rebuilt partition is a new file, an unchanged one is left
  untouched by the normalised assets (their own fingerprints, ``tables.py``);
* the code that turns them into marts, pages and exports: every file of the dbt project
  (models, macros, seeds, tests, YAML) and of the ``pipelines`` and ``sources`` packages
  (conservative: any code change rebuilds), and the installed versions of the libraries
  that compute or write them;
* the run mode (sample pages say so);
* the PostgreSQL target when one is configured (``OZG_PUBLISH_POSTGRES_*``: the DSN's
  keywords without the password, the schema and the read-only role), so that setting or
  changing it publishes again although the data did not change; unset, nothing is added.

The dbt step records the inputs it built from beside the warehouse (``inputs.json``),
publication copies that record into the published version, and the reports step, once
every page is written, records the same value in ``published/reports``. A publication is
*current* when both records equal the inputs now. A killed or failed run leaves at least
one of them old, so the next run rebuilds. No Dagster here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pipelines.postgres.publish import target_from_env
from sources.files import atomic_write_text, files_under, hash_files

ROOT = Path(__file__).resolve().parents[2]
INPUTS_FILE = "inputs.json"
# What the dbt sources read (dbt_project/models/staging/_sources.yml); staging and rejected
# attempts are not read by anyone.
LAKE_DIRS = ("normalized", "quarantine", "quality/unknown_fields")
UNREAD_DIRS = ("_staging", "_rejected")
CODE_DIRS = ("dbt_project", "pipelines", "sources")
NOT_CODE = ("target", "logs", "dbt_packages", "__pycache__")
LIBRARIES = (
    "dbt-core",
    "dbt-duckdb",
    "duckdb",
    "dagster-dbt",
    "polars",
    "pyarrow",
    "lifelines",
    "numpy",
    "scipy",
    "jinja2",
    "openpyxl",
)


def publication_inputs(data_dir: Path, mode: str) -> str:
    """The inputs of a publication of ``data_dir`` in ``mode`` (see the module docstring)."""
    digest = hashlib.sha256(f"mode={mode}\n".encode())
    data_dir = Path(data_dir)
    for relative in LAKE_DIRS:
        for path in files_under(data_dir / relative, skip=UNREAD_DIRS):
            stat = path.stat()
            name = path.relative_to(data_dir).as_posix()
            digest.update(f"{name}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    for relative in CODE_DIRS:
        hash_files(digest, ROOT / relative, skip=NOT_CODE, names_from=ROOT)
    for library in LIBRARIES:
        try:
            digest.update(f"{library}=={version(library)}\n".encode())
        except PackageNotFoundError:
            digest.update(f"{library} missing\n".encode())
    postgres = target_from_env()
    if postgres is not None:
        digest.update(f"postgres {postgres.fingerprint()}\n".encode())
    return digest.hexdigest()


def write_inputs(directory: Path, inputs: str) -> Path:
    return atomic_write_text(Path(directory) / INPUTS_FILE, json.dumps({"inputs": inputs}))


def read_inputs(directory: Path) -> str | None:
    """The inputs recorded in ``directory``, None when there is no readable record."""
    try:
        value = json.loads((Path(directory) / INPUTS_FILE).read_text("utf-8")).get("inputs")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def clear_inputs(directory: Path) -> None:
    (Path(directory) / INPUTS_FILE).unlink(missing_ok=True)


def recorded_everywhere(directories: Iterable[Path], inputs: str) -> bool:
    """Whether every one of ``directories`` records ``inputs``."""
    return all(read_inputs(directory) == inputs for directory in directories)
