"""Immutable raw landing zone: every response stored as received.

Layout of one snapshot of one source::

    data/raw/<source>/<snapshot>/
        <entry name>.gz      body exactly as received, gzip-compressed
        _journal.jsonl       append-only log: one line per stored entry or sealed group
        manifest.json        written once, atomically, when the snapshot is complete

An *entry* is one HTTP response; a *group* is the set of entries that together form
one logical dataset (all pages of one query). A group is *sealed* once its last page
landed; only sealed groups are read downstream, so pages of an abandoned paging pass
stay on disk (nothing is lost) but are never parsed.

Writes are atomic (``sources/files.py``: temporary file in the same directory, fsync,
rename). A complete snapshot is reused unless forced; a forced re-landing moves the old
snapshot aside instead of overwriting it. An incomplete snapshot is resumed: its stored
entries and sealed groups are kept and only the rest is fetched.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import threading
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sources.crashpoints import crash_point
from sources.files import atomic_write_bytes
from sources.http import Fetched, gunzip_capped
from sources.identifiers import is_snapshot, validate_file_name, validate_snapshot

MANIFEST = "manifest.json"
JOURNAL = "_journal.jsonl"


class LandingError(RuntimeError):
    pass


@dataclass(frozen=True)
class Entry:
    name: str
    group: str
    url: str
    params: dict[str, str]
    status: int
    headers: dict[str, str]
    sha256: str  # of the body as received (uncompressed)
    size: int  # bytes as received
    stored_size: int  # bytes on disk (gzip)
    fetched_at: str
    elapsed_s: float
    attempts: int
    not_modified_from: str | None = None  # snapshot whose body a 304 answer confirmed
    info: dict[str, object] = field(default_factory=dict)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class SnapshotLanding:
    """The landing area of one source for one snapshot."""

    def __init__(
        self, raw_root: Path, source: str, snapshot: str, *, mode: str, force: bool = False
    ) -> None:
        self.raw_root = Path(raw_root)
        self.source = source
        self.snapshot = validate_snapshot(snapshot)
        self.mode = mode
        self.dir = self.raw_root / validate_file_name(source, what="source") / self.snapshot
        self.superseded: Path | None = None
        if force and self.dir.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            self.superseded = self.dir.with_name(f"{snapshot}__superseded_{stamp}")
            self.dir.rename(self.superseded)
        self.reused = self.is_complete
        self.resumed = not self.reused and (self.dir / JOURNAL).exists()
        self._entries: dict[str, Entry] = {}
        self._groups: dict[str, dict[str, object]] = {}
        self._lock = threading.Lock()  # clients store pages from a bounded thread pool
        if (self.dir / MANIFEST).exists():
            manifest = json.loads((self.dir / MANIFEST).read_text("utf-8"))
            self._entries = {e["name"]: Entry(**e) for e in manifest["entries"]}
            self._groups = manifest["groups"]
        elif self.resumed:
            self._replay_journal()

    # -- state -------------------------------------------------------------------------
    @property
    def is_complete(self) -> bool:
        return (self.dir / MANIFEST).exists()

    def _replay_journal(self) -> None:
        line = ""
        with open(self.dir / JOURNAL, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a torn last line from an interrupted run
                if record.get("kind") == "entry":
                    entry = Entry(**record["entry"])
                    if self._file(entry.name).exists():
                        self._entries[entry.name] = entry
                elif record.get("kind") == "group":
                    self._groups[record["group"]] = record["seal"]
        if line and not line.endswith("\n"):
            # End the torn line, or the next record appended would be glued to it and lost.
            with open(self.dir / JOURNAL, "a", encoding="utf-8") as handle:
                handle.write("\n")

    def _file(self, name: str) -> Path:
        return self.dir / f"{validate_file_name(name, what='entry name')}.gz"

    def entry(self, name: str) -> Entry | None:
        return self._entries.get(name)

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def sealed(self, group: str) -> dict[str, object] | None:
        return self._groups.get(group)

    def groups(self) -> dict[str, dict[str, object]]:
        return dict(self._groups)

    # -- writing -----------------------------------------------------------------------
    def _append_journal(self, record: dict[str, object]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / JOURNAL, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def store(
        self,
        name: str,
        fetched: Fetched,
        *,
        group: str,
        info: dict[str, object] | None = None,
        body: bytes | None = None,
        not_modified_from: str | None = None,
    ) -> Entry:
        """Store one response under ``name``; an existing entry is never overwritten."""
        data = fetched.body if body is None else body
        compressed = gzip.compress(data, compresslevel=6, mtime=0)
        with self._lock:
            if self.is_complete:
                raise LandingError(f"{self.dir} is complete and immutable; re-land with force")
            if name in self._entries:
                raise LandingError(f"entry {name!r} already landed in {self.dir}")
            atomic_write_bytes(self._file(name), compressed)
            entry = self._record(name, group, fetched, data, compressed, info, not_modified_from)
        crash_point("raw_landing")
        return entry

    def _record(
        self,
        name: str,
        group: str,
        fetched: Fetched,
        data: bytes,
        compressed: bytes,
        info: dict[str, object] | None,
        not_modified_from: str | None,
    ) -> Entry:
        entry = Entry(
            name=name,
            group=group,
            url=fetched.url,
            params=fetched.params,
            status=fetched.status,
            headers=fetched.headers,
            sha256=sha256_hex(data),
            size=len(data),
            stored_size=len(compressed),
            fetched_at=fetched.fetched_at.isoformat(),
            elapsed_s=fetched.elapsed_s,
            attempts=fetched.attempts,
            not_modified_from=not_modified_from,
            info=dict(info or {}),
        )
        self._append_journal({"kind": "entry", "entry": asdict(entry)})
        self._entries[name] = entry
        return entry

    def seal(self, group: str, names: list[str], **info: object) -> None:
        """Mark ``names`` as the complete content of ``group``."""
        with self._lock:
            missing = [n for n in names if n not in self._entries]
            if missing:
                raise LandingError(f"cannot seal {group!r}: entries not landed: {missing[:3]}")
            seal = {"entries": list(names), **info}
            self._append_journal({"kind": "group", "group": group, "seal": seal})
            self._groups[group] = seal

    def complete(self, **summary: object) -> dict[str, object]:
        """Write the manifest atomically; from now on the snapshot is immutable."""
        entries = sorted(self._entries.values(), key=lambda e: e.name)
        manifest: dict[str, object] = {
            "source": self.source,
            "snapshot": self.snapshot,
            "mode": self.mode,
            "sample": self.mode == "sample",
            "completed_at": datetime.now(UTC).isoformat(),
            "entry_count": len(entries),
            "bytes_received": sum(e.size for e in entries),
            "bytes_stored": sum(e.stored_size for e in entries),
            "summary": summary,
            "groups": self._groups,
            "entries": [asdict(e) for e in entries],
        }
        atomic_write_bytes(
            self.dir / MANIFEST,
            json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8"),
        )
        return manifest

    # -- reading -----------------------------------------------------------------------
    def read(self, name: str) -> bytes:
        """The body of an entry as received; its checksum is verified."""
        entry = self._entries.get(name)
        if entry is None:
            raise LandingError(f"no entry {name!r} in {self.dir}")
        try:  # the entry's size bounds the inflation: a planted gzip bomb stops there
            data = gunzip_capped(self._file(name).read_bytes(), entry.size)
        except (ValueError, EOFError, zlib.error) as error:
            raise LandingError(f"raw file {self._file(name)} does not inflate: {error}") from error
        if sha256_hex(data) != entry.sha256:
            raise LandingError(f"checksum mismatch for {self._file(name)}: raw file was modified")
        return data

    def group_bodies(self, group: str) -> Iterator[tuple[Entry, bytes]]:
        seal = self._groups.get(group)
        if seal is None:
            raise LandingError(f"group {group!r} is not sealed in {self.dir}")
        for name in seal["entries"]:  # type: ignore[union-attr]
            yield self._entries[name], self.read(name)

    def verify(self) -> None:
        """Check every body of every sealed group against its sha256 (``read``): raises
        ``LandingError`` naming the first modified or truncated raw file."""
        for group in list(self._groups):
            for _ in self.group_bodies(group):
                pass

    def manifest(self) -> dict[str, object]:
        return json.loads((self.dir / MANIFEST).read_text("utf-8"))


def previous_complete(raw_root: Path, source: str, before: str) -> SnapshotLanding | None:
    """The latest complete snapshot of ``source`` older than ``before`` (for conditional GETs)."""
    base = Path(raw_root) / source
    if not base.exists():
        return None
    candidates = sorted(
        p.name for p in base.iterdir() if p.is_dir() and is_snapshot(p.name) and p.name < before
    )
    for snapshot in reversed(candidates):
        landing = SnapshotLanding(raw_root, source, snapshot, mode="unknown")
        if landing.is_complete:
            return landing
    return None
