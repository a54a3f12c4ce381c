"""Atomic file writes: a reader sees the old file or the new one, never a part of it.

One contract for every file the project writes whole — raw landing entries and
manifests, lake partitions, validation documents, HTML pages, the workbook and the
published warehouse: the content goes to a uniquely named temporary file in the
target's own directory (so the rename never crosses a filesystem), is flushed to disk
with ``fsync``, and is renamed over the target with ``os.replace``. If anything fails,
the temporary file is removed and the target stays as it was. It lives in ``sources/``
because the raw landing needs it and ``sources/`` imports nothing from ``pipelines/``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

TMP_PREFIX = ".tmp-"  # temporary files start with this (tests look for leftovers)


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Let ``write`` create the content at a temporary path, then move it onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex[:8]}-{path.name}")
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: Path, text: str) -> Path:
    """``text`` as UTF-8."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_copy(source: Path, target: Path) -> Path:
    return atomic_write(target, lambda tmp: shutil.copyfile(source, tmp))


def files_under(root: Path, *, skip: Iterable[str] = ()) -> list[Path]:
    """Every file below ``root``, sorted, without descending into directories named in
    ``skip`` (a dbt ``target/`` of build output can hold gigabytes nobody needs to list)."""
    skipped = set(skip)
    found: list[Path] = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = [name for name in subdirectories if name not in skipped]
        found.extend(Path(directory, name) for name in names)
    return sorted(found)


def hash_files(digest: Any, root: Path, *, skip: Iterable[str] = (), names_from: Path) -> None:
    """Feed every file below ``root`` (as in ``files_under``) into ``digest``: its path
    relative to ``names_from`` and the sha256 of its content."""
    for path in files_under(root, skip=skip):
        digest.update(path.relative_to(names_from).as_posix().encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
