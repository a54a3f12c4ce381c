"""The raw landing zone: atomic writes, manifest, reuse, resume, forced re-landing,
tamper detection, torn journal lines. Real clients talk to the local HTTP server."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from http_server import FAST_HTTP, LocalServer, Recorded, Reply, json_reply

from sources import fim, ingest, landing, pvog
from sources.config import BUND_ARS, Settings
from sources.http import Fetched
from sources.landing import JOURNAL, LandingError, SnapshotLanding, atomic_write_bytes
from sources.sample import files

SNAPSHOT = datetime(2026, 1, 15).date()
HTTP = FAST_HTTP
PVOG_PATH = "/pvog/v5/servicedescriptions/csv"
PVOG_NAME = f"servicedescriptions_{BUND_ARS}.csv"
CSV = files.PVOG_BUND_CSV.read_bytes()
PVOG_HEADERS = {
    "Content-Type": "text/csv;charset=UTF-8",
    "ETag": '"pvog-1"',
    "Last-Modified": "Mon, 20 Jan 2025 00:48:00 GMT",
    "X-Request-Id": "not-kept",
}


def live(tmp_path: Path, server: LocalServer, **overrides: object) -> Settings:
    settings = {
        "mode": "live",
        "data_dir": tmp_path,
        "pvog_url": server.url + "/pvog",
        "fim_url": server.url,
        "pvog_ars": (BUND_ARS,),
        "page_size": 2,
        "http": HTTP,
    }
    return Settings(**{**settings, **overrides})  # type: ignore[arg-type]


def open_landing(settings: Settings, source: str) -> SnapshotLanding:
    return SnapshotLanding(settings.raw_root(source), source, SNAPSHOT.isoformat(), mode="live")


def serve_pvog(server: LocalServer) -> None:
    server.route(PVOG_PATH, lambda _: Reply(200, CSV, PVOG_HEADERS))


def fim_item(index: int) -> dict[str, object]:
    key = f"9901200301{index:04d}"
    return {
        "title": f"Steckbrief {index}",
        "leistungsschluessel": [key],
        "typisierung": ["4"],
        "ozg": [],
    }


def serve_fim(server: LocalServer, count: int = 5) -> None:
    items = [fim_item(i) for i in range(count)]

    def answer(request: Recorded) -> Reply:
        offset, limit = int(request.params["offset"]), int(request.params["limit"])
        chunk = items[offset : offset + limit]
        page = {"offset": offset, "limit": limit, "count": len(chunk), "total_count": len(items)}
        return json_reply({"items": chunk, **page})

    server.route(fim.PATH, answer)


def offsets(server: LocalServer) -> list[str]:
    return [r.params["offset"] for r in server.requests_to(fim.PATH)]


class Interrupted(Exception):
    """Stands in for a crash / kill in the middle of a landing run."""


def interrupt_fim_after(monkeypatch: pytest.MonkeyPatch, pages: int) -> None:
    """Let ``pages`` FIM requests through, then raise from the fetch function."""
    original = fim.FimClient.fetch_page
    calls = {"n": 0}

    def fetch_page(self: fim.FimClient, offset: int, limit: int) -> Fetched:
        calls["n"] += 1
        if calls["n"] > pages:
            raise Interrupted(f"killed before offset {offset}")
        return original(self, offset, limit)

    monkeypatch.setattr(fim.FimClient, "fetch_page", fetch_page)


def tmp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".tmp-")]


# -- atomic writes --------------------------------------------------------------------------
def test_atomic_write_replaces_content_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "file.bin"
    atomic_write_bytes(target, b"first")
    atomic_write_bytes(target, b"second")

    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]


def test_failed_atomic_write_keeps_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = tmp_path / "old.bin", tmp_path / "new.bin"
    atomic_write_bytes(old, b"old content")

    def crash(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(landing.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(old, b"new content")
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(new, b"new content")

    assert old.read_bytes() == b"old content"
    assert not new.exists()
    assert tmp_files(tmp_path) == []


def test_landing_leaves_no_temp_files(local_server: LocalServer, tmp_path: Path) -> None:
    serve_pvog(local_server)
    serve_fim(local_server)
    settings = live(tmp_path, local_server)
    ingest.land_pvog(settings, SNAPSHOT)
    ingest.land_fim(settings, SNAPSHOT)

    assert tmp_files(tmp_path) == []
    assert sorted(p.name for p in open_landing(settings, fim.SOURCE).dir.iterdir()) == [
        "_journal.jsonl",
        "manifest.json",
        "steckbriefe_p0_0000.json.gz",
        "steckbriefe_p0_0001.json.gz",
        "steckbriefe_p0_0002.json.gz",
    ]


def test_failed_manifest_write_leaves_snapshot_resumable(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_pvog(local_server)
    settings = live(tmp_path, local_server)
    real_replace = os.replace

    def crash_on_manifest(src: str | Path, dst: str | Path) -> None:
        if Path(dst).name == "manifest.json":
            raise OSError("power cut")
        real_replace(src, dst)

    monkeypatch.setattr(landing.os, "replace", crash_on_manifest)
    with pytest.raises(OSError, match="power cut"):
        ingest.land_pvog(settings, SNAPSHOT)
    monkeypatch.setattr(landing.os, "replace", real_replace)

    stored = open_landing(settings, pvog.SOURCE)
    assert not stored.is_complete
    assert tmp_files(tmp_path) == []
    report = ingest.land_pvog(settings, SNAPSHOT)
    assert report.resumed is True
    assert report.fetched_now == 0  # the landed body was kept; only the manifest was missing
    assert report.rows == 933
    assert len(local_server.requests) == 1


# -- manifest -------------------------------------------------------------------------------
def test_manifest_records_provenance(local_server: LocalServer, tmp_path: Path) -> None:
    serve_pvog(local_server)
    settings = live(tmp_path, local_server)
    before = datetime.now(UTC)

    report = ingest.land_pvog(settings, SNAPSHOT)

    directory = tmp_path / "raw" / "land=06" / "pvog" / SNAPSHOT.isoformat()
    assert report.directory == directory
    manifest = json.loads((directory / "manifest.json").read_text("utf-8"))
    assert manifest["source"] == "pvog"
    assert manifest["snapshot"] == "2026-01-15"
    assert manifest["mode"] == "live"
    assert manifest["sample"] is False
    assert manifest["entry_count"] == 1
    assert manifest["summary"] == {"rows": 933, "ars": [BUND_ARS], "unknown_fields": []}
    assert manifest["groups"] == {f"csv/{BUND_ARS}": {"entries": [PVOG_NAME]}}
    (entry,) = manifest["entries"]
    assert entry["name"] == PVOG_NAME
    assert entry["group"] == f"csv/{BUND_ARS}"
    assert entry["url"] == f"{local_server.url}{PVOG_PATH}?ars={BUND_ARS}"
    assert entry["params"] == {"ars": BUND_ARS}
    assert entry["status"] == 200
    assert entry["attempts"] == 1
    assert entry["not_modified_from"] is None
    headers = entry["headers"]
    assert headers["content-type"] == "text/csv;charset=UTF-8"
    assert headers["etag"] == '"pvog-1"'
    assert headers["last-modified"] == "Mon, 20 Jan 2025 00:48:00 GMT"
    assert headers["content-length"] == str(len(CSV))
    assert "date" in headers
    assert "x-request-id" not in headers
    assert entry["sha256"] == hashlib.sha256(CSV).hexdigest()
    assert entry["size"] == len(CSV) == manifest["bytes_received"]
    stored = directory / f"{PVOG_NAME}.gz"
    assert gzip.decompress(stored.read_bytes()) == CSV  # exactly the bytes received
    assert entry["stored_size"] == stored.stat().st_size == manifest["bytes_stored"]
    assert entry["stored_size"] < entry["size"]
    fetched_at = datetime.fromisoformat(entry["fetched_at"])
    assert before <= fetched_at <= datetime.now(UTC)
    assert datetime.fromisoformat(manifest["completed_at"]) >= fetched_at


def test_journal_lists_every_entry_and_seal(local_server: LocalServer, tmp_path: Path) -> None:
    serve_fim(local_server)
    settings = live(tmp_path, local_server)
    ingest.land_fim(settings, SNAPSHOT)

    lines = (open_landing(settings, fim.SOURCE).dir / JOURNAL).read_text("utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["kind"] for r in records] == ["entry", "entry", "entry", "group"]
    assert [r["entry"]["params"]["offset"] for r in records[:3]] == ["0", "2", "4"]
    assert records[3]["group"] == ingest.FIM_GROUP
    assert records[3]["seal"]["total"] == 5


def test_complete_snapshot_is_immutable(local_server: LocalServer, tmp_path: Path) -> None:
    serve_pvog(local_server)
    settings = live(tmp_path, local_server)
    ingest.land_pvog(settings, SNAPSHOT)
    stored = open_landing(settings, pvog.SOURCE)
    entry_name = stored.entries()[0].name
    fetched = pvog.PvogClient.create(settings.pvog_url, HTTP).fetch_csv(BUND_ARS)

    with pytest.raises(LandingError, match="complete and immutable"):
        stored.store("another.csv", fetched, group="csv/x")
    assert stored.read(entry_name) == CSV


# -- reuse, resume, force -------------------------------------------------------------------
def test_complete_snapshot_is_reused_without_requests(
    local_server: LocalServer, tmp_path: Path
) -> None:
    serve_pvog(local_server)
    serve_fim(local_server)
    settings = live(tmp_path, local_server)
    ingest.land_pvog(settings, SNAPSHOT)
    ingest.land_fim(settings, SNAPSHOT)
    assert len(local_server.requests) == 1 + 3
    manifest = (open_landing(settings, fim.SOURCE).dir / "manifest.json").read_bytes()

    again = [ingest.land_pvog(settings, SNAPSHOT), ingest.land_fim(settings, SNAPSHOT)]

    assert len(local_server.requests) == 1 + 3
    assert [(r.reused, r.resumed, r.fetched_now, r.rows) for r in again] == [
        (True, False, 0, 933),
        (True, False, 0, 5),
    ]
    assert (open_landing(settings, fim.SOURCE).dir / "manifest.json").read_bytes() == manifest


def test_a_reused_snapshot_takes_rows_from_its_manifest_after_checking_every_body(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_pvog(local_server)
    settings = live(tmp_path, local_server)
    first = ingest.land_pvog(settings, SNAPSHOT)
    manifest_path = open_landing(settings, pvog.SOURCE).dir / "manifest.json"

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a reused landing was parsed again")

    # (That every body is still checked: test_modified_raw_file_is_detected.)
    with monkeypatch.context() as patched:
        patched.setattr(ingest, "read_pvog", no_parse)
        again = ingest.land_pvog(settings, SNAPSHOT)
    assert (again.reused, again.rows, again.unknown_fields) == (
        True,
        first.rows,
        first.unknown_fields,
    )
    # A manifest from before the record (no unknown_fields in its summary) is parsed.
    manifest = json.loads(manifest_path.read_text("utf-8"))
    del manifest["summary"]["unknown_fields"]
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    assert ingest.land_pvog(settings, SNAPSHOT).rows == first.rows == 933


def test_incomplete_snapshot_is_resumed(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_fim(local_server)
    settings = live(tmp_path, local_server)
    interrupt_fim_after(monkeypatch, pages=2)
    with pytest.raises(Interrupted):
        ingest.land_fim(settings, SNAPSHOT)
    assert offsets(local_server) == ["0", "2"]
    assert not open_landing(settings, fim.SOURCE).is_complete
    monkeypatch.undo()

    report = ingest.land_fim(settings, SNAPSHOT)

    assert offsets(local_server) == ["0", "2", "4"]  # only the missing page was requested
    assert (report.reused, report.resumed, report.fetched_now) == (False, True, 1)
    assert report.rows == 5
    stored = open_landing(settings, fim.SOURCE)
    assert stored.is_complete
    assert stored.sealed(ingest.FIM_GROUP)["entries"] == [  # type: ignore[index]
        f"steckbriefe_p0_{i:04d}.json" for i in range(3)
    ]


def test_resume_refetches_an_entry_whose_file_is_missing(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A journal line whose body file never made it to disk is not trusted."""
    serve_fim(local_server)
    settings = live(tmp_path, local_server)
    interrupt_fim_after(monkeypatch, pages=2)
    with pytest.raises(Interrupted):
        ingest.land_fim(settings, SNAPSHOT)
    monkeypatch.undo()
    (open_landing(settings, fim.SOURCE).dir / "steckbriefe_p0_0001.json.gz").unlink()

    report = ingest.land_fim(settings, SNAPSHOT)

    assert offsets(local_server) == ["0", "2", "2", "4"]
    assert report.rows == 5


def test_torn_last_journal_line_is_ignored_on_resume(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_fim(local_server, count=7)
    settings = live(tmp_path, local_server)
    interrupt_fim_after(monkeypatch, pages=2)
    with pytest.raises(Interrupted):
        ingest.land_fim(settings, SNAPSHOT)
    monkeypatch.undo()
    journal = open_landing(settings, fim.SOURCE).dir / JOURNAL
    with open(journal, "ab") as handle:  # killed while writing a line, mid-character even
        handle.write('{"kind": "entry", "entry": {"name": "Straß'.encode()[:-1])

    # The resumed run is interrupted as well, after one more page ...
    interrupt_fim_after(monkeypatch, pages=1)
    with pytest.raises(Interrupted):
        ingest.land_fim(settings, SNAPSHOT)
    monkeypatch.undo()
    assert offsets(local_server) == ["0", "2", "4"]
    # ... and the third run still knows about that page: the torn line did not swallow it.
    report = ingest.land_fim(settings, SNAPSHOT)

    assert offsets(local_server) == ["0", "2", "4", "6"]
    assert report.rows == 7
    assert open_landing(settings, fim.SOURCE).is_complete


def test_force_relanding_keeps_the_old_snapshot(local_server: LocalServer, tmp_path: Path) -> None:
    serve_pvog(local_server)
    settings = live(tmp_path, local_server)
    first = ingest.land_pvog(settings, SNAPSHOT)
    old_manifest = (first.directory / "manifest.json").read_bytes()

    second = ingest.land_pvog(settings, SNAPSHOT, force=True)

    assert len(local_server.requests) == 2
    assert (second.reused, second.fetched_now, second.rows) == (False, 1, 933)
    assert second.directory == first.directory
    siblings = sorted(p.name for p in (tmp_path / "raw" / "land=06" / "pvog").iterdir())
    assert len(siblings) == 2
    assert siblings[0] == "2026-01-15"
    assert siblings[1].startswith("2026-01-15__superseded_")
    kept = tmp_path / "raw" / "land=06" / "pvog" / siblings[1]
    assert (kept / "manifest.json").read_bytes() == old_manifest
    assert gzip.decompress((kept / f"{PVOG_NAME}.gz").read_bytes()) == CSV
    assert (
        landing.previous_complete(settings.raw_root("pvog"), "pvog", "2026-12-31").dir
        == first.directory
    )  # type: ignore[union-attr]


# -- tamper detection -----------------------------------------------------------------------
def test_modified_raw_file_is_detected(local_server: LocalServer, tmp_path: Path) -> None:
    serve_pvog(local_server)
    settings = live(tmp_path, local_server)
    ingest.land_pvog(settings, SNAPSHOT)
    raw = open_landing(settings, pvog.SOURCE).dir / f"{PVOG_NAME}.gz"
    raw.write_bytes(
        gzip.compress(CSV.replace(b"Saison-Kurzarbeitergeld", b"Saison-Kurzarbeitsgeld"))
    )

    with pytest.raises(LandingError, match="checksum mismatch") as caught:
        open_landing(settings, pvog.SOURCE).read(PVOG_NAME)
    assert str(raw) in str(caught.value)
    with pytest.raises(LandingError, match="raw file was modified"):
        ingest.land_pvog(settings, SNAPSHOT)  # reusing the snapshot reads it, too
    assert len(local_server.requests) == 1


def test_a_raw_file_replaced_by_a_gzip_bomb_stops_at_the_entrys_size(
    local_server: LocalServer, tmp_path: Path
) -> None:
    serve_pvog(local_server)
    settings = live(tmp_path, local_server)
    ingest.land_pvog(settings, SNAPSHOT)
    raw = open_landing(settings, pvog.SOURCE).dir / f"{PVOG_NAME}.gz"
    raw.write_bytes(gzip.compress(b"\0" * (64 * 2**20)))  # 64 MiB of zeros, 64 KiB on disk

    with pytest.raises(LandingError, match="does not inflate") as caught:
        open_landing(settings, pvog.SOURCE).read(PVOG_NAME)
    assert str(raw) in str(caught.value) and f"cap of {len(CSV)} bytes" in str(caught.value)
