"""The real source clients and ``sources.ingest`` against a local server speaking the
documented wire formats (``docs/sources.md`` §1c–1d, §2e, §3, §4)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import requests
from http_server import FAST_HTTP, LocalServer, Recorded, Reply, json_reply

from sources import dashboard, destatis, fim, ingest, pvog
from sources.config import BUND_ARS, Settings
from sources.contract import DriftLog, UnknownField
from sources.http import SourceError
from sources.landing import SnapshotLanding
from sources.sample import files
from sources.sample.server import serve_in_thread

SNAPSHOT = date(2026, 1, 15)
WIESBADEN = "064140000000"
HTTP = FAST_HTTP
HOST_A = "/api"
HOST_B = "/api/public/v1/dash"
PVOG_BASE = "/suchdienst/api"
PVOG_PATH = f"{PVOG_BASE}/v5/servicedescriptions/csv"


def live(tmp_path: Path, server: LocalServer, **overrides: object) -> Settings:
    settings = {
        "mode": "live",
        "data_dir": tmp_path,
        "dashboard_url": server.url + HOST_A,
        "dashboard_endpoint": "paged",  # the paging tests; the export tests set "export"
        "pvog_url": server.url + PVOG_BASE,
        "fim_url": server.url,
        "destatis_url": server.url,
        "page_size": 2,
        "above_pulls": "none",
        "pvog_ars": (BUND_ARS,),
        "http": HTTP,
    }
    return Settings(**{**settings, **overrides})  # type: ignore[arg-type]


def landing(settings: Settings, source: str, snapshot: date = SNAPSHOT) -> SnapshotLanding:
    return SnapshotLanding(settings.raw_root(source), source, snapshot.isoformat(), mode="live")


# -- Dashboard ------------------------------------------------------------------------------
def record(index: int, ars: str = WIESBADEN, **changes: object) -> dict[str, object]:
    """A DvDataDto in the column order of the public wire format (§1c)."""
    row: dict[str, object] = {
        "leika_key": f"9904100601{index:04d}",
        "leika_name": f"Leistung {index}",
        "ars": ars,
        "ars_name": "Wiesbaden",
        "ars_federal_state": "06",
        "bundesland": "Hessen",
        "leika_bezeichnung": None,
        "ozgid": 10000 + index,
        "ozg_bezeichnung": "Hundehaltung",
        "url": f"https://example.org/dienst/{index}",
        "online_status": "ok",
        "aktiv": "ja",
        "art_flaechendeckung": "in mind. einer Kommune verfügbar",
    }
    row.update(changes)
    return row


def spring_page(content: list[object], page: int, size: int, spring33: bool) -> dict[str, object]:
    total_pages = math.ceil(len(content) / size)
    chunk = content[page * size : (page + 1) * size]
    if spring33:
        meta = {"size": size, "number": page, "totalElements": len(content)}
        return {"content": chunk, "page": {**meta, "totalPages": total_pages}}
    return {
        "content": chunk,
        "totalPages": total_pages,
        "totalElements": len(content),
        "size": size,
        "number": page,
        "numberOfElements": len(chunk),
        "first": page == 0,
        "last": page + 1 >= total_pages,
        "empty": not chunk,
        "sort": {"empty": True, "sorted": False, "unsorted": True},
        "pageable": {"pageNumber": page, "pageSize": size, "offset": page * size},
    }


def paged(records: Callable[[], list[object]], spring33: bool = False) -> Callable[..., Reply]:
    """A route answering ``page``/``size`` from the current ``records()``."""

    def answer(request: Recorded) -> Reply:
        page, size = int(request.params["page"]), int(request.params["size"])
        return json_reply(spring_page(records(), page, size, spring33))

    return answer


ARS_RECORDS: list[object] = [{"ars": BUND_ARS, "arsName": "Bund"}, {"ars": WIESBADEN}]


def serve_dashboard(
    server: LocalServer, records: list[object], *, base: str = HOST_A, spring33: bool = False
) -> tuple[str, str]:
    """Route the ARS list and the data of Wiesbaden; returns both paths."""
    host_b = base == HOST_B
    ars_path = f"{base}/open-ars" if host_b else f"{base}/v1/ars"
    data_path = f"{base}/open-pvog/{WIESBADEN}" if host_b else f"{base}/v1/data/{WIESBADEN}"
    server.route(ars_path, paged(lambda: ARS_RECORDS, spring33))
    server.route(data_path, paged(lambda: records, spring33))
    return ars_path, data_path


@pytest.mark.parametrize("spring33", [False, True], ids=["classic", "spring33"])
def test_dashboard_pages_with_short_last_page(
    local_server: LocalServer, tmp_path: Path, spring33: bool
) -> None:
    records = [record(i) for i in range(5)]
    ars_path, data_path = serve_dashboard(local_server, records, spring33=spring33)
    settings = live(tmp_path, local_server)

    report = ingest.land_dashboard(settings, SNAPSHOT, [WIESBADEN])

    requests = local_server.requests_to(data_path)
    assert [r.params for r in requests] == [
        {"page": str(i), "size": "2", "includeAbove": "false", "includeBelow": "false"}
        for i in range(3)
    ]
    assert report.rows == 5
    assert report.fetched_now == 3 + 1  # three data pages and one ARS page
    stored = landing(settings, dashboard.SOURCE)
    assert stored.is_complete
    names = [f"data_{WIESBADEN}_own_p0_{i:04d}.json" for i in range(3)]
    assert stored.sealed(f"data/{WIESBADEN}/own") == {
        "entries": names,
        "passes": 1,
        "total": 5,
        "pages": 3,
    }
    assert [stored.entry(n).info["count"] for n in names] == [2, 2, 1]  # type: ignore[union-attr]
    assert stored.sealed("ars_list") is not None
    assert ingest.read_ars_list(stored).rows() == [(BUND_ARS, "Bund"), (WIESBADEN, None)]
    frame = ingest.read_dashboard(stored)
    assert frame["leika_key"].to_list() == [r["leika_key"] for r in records]
    assert frame["ozgid"].to_list() == [10000, 10001, 10002, 10003, 10004]
    assert frame["raw_file"].to_list() == [names[0]] * 2 + [names[1]] * 2 + [names[2]]
    assert frame["record_index"].to_list() == [0, 1, 0, 1, 0]
    assert [r.params for r in local_server.requests_to(ars_path)] == [
        {"page": "0", "size": "2", "order": "asc"}
    ]


def test_dashboard_pages_until_last_even_with_exact_multiple(
    local_server: LocalServer, tmp_path: Path
) -> None:
    _, data_path = serve_dashboard(local_server, [record(i) for i in range(4)])
    report = ingest.land_dashboard(live(tmp_path, local_server), SNAPSHOT, [WIESBADEN])

    assert report.rows == 4
    assert [r.params["page"] for r in local_server.requests_to(data_path)] == ["0", "1"]


def test_dashboard_stops_on_last_without_total_pages(
    local_server: LocalServer, tmp_path: Path
) -> None:
    records = [record(i) for i in range(3)]
    data_path = f"{HOST_A}/v1/data/{WIESBADEN}"
    local_server.route(f"{HOST_A}/v1/ars", paged(lambda: ARS_RECORDS))

    def answer(request: Recorded) -> Reply:
        page = spring_page(records, int(request.params["page"]), 2, spring33=False)
        del page["totalPages"]  # only the `last` flag tells where to stop
        return json_reply(page)

    local_server.route(data_path, answer)
    report = ingest.land_dashboard(live(tmp_path, local_server), SNAPSHOT, [WIESBADEN])

    assert [r.params["page"] for r in local_server.requests_to(data_path)] == ["0", "1"]
    assert report.rows == 3


def test_dashboard_host_b_paths(local_server: LocalServer, tmp_path: Path) -> None:
    host_b_fields = {
        "begruendung_nicht_beruecksichtigt": None,
        "export_datum": "2025-12-01",
        "datenstand_pvog_import": "2025-11-30",
    }
    records = [record(i, **host_b_fields) for i in range(3)]
    ars_path, data_path = serve_dashboard(local_server, records, base=HOST_B, spring33=True)
    settings = live(tmp_path, local_server, dashboard_url=local_server.url + HOST_B + "/")

    report = ingest.land_dashboard(settings, SNAPSHOT, [WIESBADEN])

    assert report.rows == 3
    assert report.source_url == f"{local_server.url}{HOST_B}/open-pvog/060000000000"
    assert {r.path for r in local_server.requests} == {ars_path, data_path}
    assert len(local_server.requests_to(data_path)) == 2
    frame = ingest.read_dashboard(landing(settings, dashboard.SOURCE))
    assert frame["datenstand_pvog_import"].to_list() == ["2025-11-30"] * 3


def test_dashboard_include_above_for_pilots(local_server: LocalServer, tmp_path: Path) -> None:
    _, data_path = serve_dashboard(local_server, [record(0)])
    settings = live(tmp_path, local_server, above_pulls="pilots")

    report = ingest.land_dashboard(settings, SNAPSHOT, [WIESBADEN])

    flags = sorted(r.params["includeAbove"] for r in local_server.requests_to(data_path))
    assert flags == ["false", "true"]
    assert report.rows == 2
    frame = ingest.read_dashboard(landing(settings, dashboard.SOURCE))
    assert sorted(frame["include_above"].to_list()) == [False, True]


def test_dashboard_total_changing_once_restarts(local_server: LocalServer, tmp_path: Path) -> None:
    records = [record(i) for i in range(5)]
    data_path = f"{HOST_A}/v1/data/{WIESBADEN}"
    local_server.route(f"{HOST_A}/v1/ars", paged(lambda: ARS_RECORDS))

    def moving(request: Recorded) -> Reply:
        if len(local_server.requests_to(data_path)) == 2:
            records.append(record(5))  # a record appears while we page through
        return paged(lambda: records)(request)

    local_server.route(data_path, moving)
    settings = live(tmp_path, local_server)

    report = ingest.land_dashboard(settings, SNAPSHOT, [WIESBADEN])

    pages = [r.params["page"] for r in local_server.requests_to(data_path)]
    assert pages == ["0", "1", "0", "1", "2"]
    assert report.rows == 6
    stored = landing(settings, dashboard.SOURCE)
    seal = stored.sealed(f"data/{WIESBADEN}/own")
    second_pass = [f"data_{WIESBADEN}_own_p1_{i:04d}.json" for i in range(3)]
    assert seal == {"entries": second_pass, "passes": 2, "total": 6, "pages": 3}
    abandoned = [f"data_{WIESBADEN}_own_p0_{i:04d}.json" for i in range(2)]
    for name in abandoned:  # kept on disk and in the manifest, but not part of the group
        assert (stored.dir / f"{name}.gz").is_file()
        assert stored.entry(name) is not None
    assert {e["name"] for e in stored.manifest()["entries"]} >= set(abandoned)  # type: ignore[union-attr]
    frame = ingest.read_dashboard(stored)
    assert frame["leika_key"].to_list() == [record(i)["leika_key"] for i in range(6)]
    assert set(frame["raw_file"].to_list()) == set(second_pass)


def test_dashboard_total_changing_all_the_time_fails(
    local_server: LocalServer, tmp_path: Path
) -> None:
    records = [record(i) for i in range(5)]
    data_path = f"{HOST_A}/v1/data/{WIESBADEN}"
    local_server.route(f"{HOST_A}/v1/ars", paged(lambda: ARS_RECORDS))

    def growing(request: Recorded) -> Reply:
        records.append(record(len(records)))
        return paged(lambda: records)(request)

    local_server.route(data_path, growing)
    settings = live(tmp_path, local_server)

    with pytest.raises(SourceError) as caught:
        ingest.land_dashboard(settings, SNAPSHOT, [WIESBADEN])

    assert caught.value.source == "dashboard"
    assert caught.value.url == f"data/{WIESBADEN}/own"
    assert "total changed between pages in 3 consecutive passes" in caught.value.reason
    assert len(local_server.requests_to(data_path)) == 6  # two pages in each of three passes
    stored = landing(settings, dashboard.SOURCE)
    assert not stored.is_complete
    assert stored.sealed(f"data/{WIESBADEN}/own") is None
    assert len([e for e in stored.entries() if e.group == f"data/{WIESBADEN}/own"]) == 6


def test_dashboard_missing_column_names_column_and_record(
    local_server: LocalServer, tmp_path: Path
) -> None:
    broken = record(1)
    del broken["online_status"]
    serve_dashboard(local_server, [record(0), broken, record(2)])

    with pytest.raises(dashboard.DashboardFormatError) as caught:
        ingest.land_dashboard(live(tmp_path, local_server), SNAPSHOT, [WIESBADEN])

    message = str(caught.value)
    assert "missing column 'online_status'" in message
    assert f"record 1 (leika_key {broken['leika_key']})" in message
    assert message.startswith("dashboard: ")


def test_dashboard_extra_column_is_drift_not_failure(
    local_server: LocalServer, tmp_path: Path
) -> None:
    serve_dashboard(local_server, [record(0), record(1), record(2, barrierefrei="ja")])
    drift = DriftLog(dashboard.SOURCE)

    report = ingest.land_dashboard(live(tmp_path, local_server), SNAPSHOT, [WIESBADEN], drift=drift)

    assert report.rows == 3
    (unknown,) = drift.fields()
    assert (unknown.source, unknown.field, unknown.records) == ("dashboard", "barrierefrei", 1)
    assert unknown.first_record == "record 0 (leika_key 99041006010002)"  # first on page 2
    assert "page=1&size=2" in unknown.url
    assert report.unknown_fields == (unknown,)
    stored = landing(live(tmp_path, local_server), dashboard.SOURCE)
    (noted,) = stored.manifest()["summary"]["unknown_fields"]  # type: ignore[index]
    assert noted["field"] == "barrierefrei" and noted["records"] == 1
    assert "barrierefrei" not in ingest.read_dashboard(stored).columns


def test_a_complete_landing_is_parsed_once_and_a_relanding_anew(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The landing parses its bodies once to count them; the reads of the complete landing
    after it (the leistungen and the verfuegbarkeit build) are that parse's frame, with the
    same unknown fields noted. A re-landed snapshot (a new manifest) is parsed again."""
    parsed: list[str] = []
    parse = ingest._parse_dashboard

    def counted(landing: SnapshotLanding, drift: DriftLog) -> pl.DataFrame:
        parsed.append(str(landing.dir))
        return parse(landing, drift)

    monkeypatch.setattr(ingest, "_parse_dashboard", counted)
    serve_dashboard(local_server, [record(0), record(1), record(2, barrierefrei="ja")])
    settings = live(tmp_path, local_server)
    landed = DriftLog(dashboard.SOURCE)
    ingest.land_dashboard(settings, SNAPSHOT, [WIESBADEN], drift=landed)
    assert len(parsed) == 1
    reads = []
    for _ in range(2):
        drift = DriftLog(dashboard.SOURCE)
        reads.append(
            (ingest.read_dashboard(landing(settings, dashboard.SOURCE), drift=drift), drift)
        )
    assert len(parsed) == 1
    (first, first_drift), (second, second_drift) = reads
    assert second.equals(first) and first.height == 3
    assert second_drift.fields() == first_drift.fields() == landed.fields() != []

    serve_dashboard(local_server, [record(0), record(1)])
    ingest.land_dashboard(settings, SNAPSHOT, [WIESBADEN], force=True)
    assert len(parsed) == 2
    assert ingest.read_dashboard(landing(settings, dashboard.SOURCE)).height == 2
    assert len(parsed) == 2


def test_dashboard_page_without_paging_fields_fails(
    local_server: LocalServer, tmp_path: Path
) -> None:
    local_server.route(f"{HOST_A}/v1/ars", paged(lambda: ARS_RECORDS))
    local_server.route(f"{HOST_A}/v1/data/{WIESBADEN}", lambda _: json_reply({"content": []}))

    with pytest.raises(dashboard.DashboardFormatError, match="neither 'last' nor 'totalPages'"):
        ingest.land_dashboard(live(tmp_path, local_server), SNAPSHOT, [WIESBADEN])


# -- Dashboard: the export endpoint (OZG_DASHBOARD_ENDPOINT=export, the default) -------------
HOST_B_FIELDS: dict[str, object] = {
    "begruendung_nicht_beruecksichtigt": None,
    "export_datum": None,
    "datenstand_pvog_import": "2026-10-28",
}
EXPORT_B = f"{HOST_B}/open-pvog/{WIESBADEN}/export"
EXPORT_A = f"{HOST_A}/v1/data/{WIESBADEN}"
EXPORT_PARAMS = {"filetype": "csv", "includeAbove": "false", "includeBelow": "false"}
FILE_HEADERS = {
    "Content-Type": "application/octet-stream",
    "Content-Disposition": 'attachment; filename="export.csv"',
}
DVDATA_COLUMNS = dashboard.FIELDS[:13]  # the spec's DvDataDto, without host B's additions


def csv_body(
    rows: list[dict[str, object]],
    *,
    delimiter: str = ";",
    bom: bool = True,
    line_end: str = "\r\n",
    encoding: str = "utf-8",
    columns: tuple[str, ...] | None = None,
) -> bytes:
    """A CSV export: header, standard quoting, null as an empty cell."""
    columns = columns or tuple(rows[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else str(row[c]) for c in columns])
    return (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode(encoding)


def file_route(body: bytes) -> Callable[[Recorded], Reply]:
    """Answers like host B's export: 406 unless the Accept header allows octet-stream."""

    def answer(request: Recorded) -> Reply:
        accept = request.headers.get("accept", "")
        if "application/octet-stream" not in accept and "*/*" not in accept:
            return Reply(406)
        return Reply(200, body, FILE_HEADERS)

    return answer


def serve_export(
    server: LocalServer, route: Callable[[Recorded], Reply], *, base: str = HOST_B
) -> str:
    """Route the ARS list and the export of Wiesbaden; returns the export path."""
    host_b = base == HOST_B
    server.route(f"{base}/open-ars" if host_b else f"{base}/v1/ars", paged(lambda: ARS_RECORDS))
    path = EXPORT_B if host_b else EXPORT_A
    server.route(path, route)
    return path


def exporting(tmp_path: Path, server: LocalServer, base: str = HOST_B) -> Settings:
    return live(tmp_path, server, dashboard_url=server.url + base, dashboard_endpoint="export")


def rows_of(records: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [tuple(r.get(f) for f in dashboard.FIELDS) for r in records]


DIALECTS = {
    "semicolon-bom-crlf": {"delimiter": ";", "bom": True, "line_end": "\r\n"},
    "comma-lf": {"delimiter": ",", "bom": False, "line_end": "\n"},
    "tab-crlf": {"delimiter": "\t", "bom": False, "line_end": "\r\n"},
    "pipe-bom-lf": {"delimiter": "|", "bom": True, "line_end": "\n"},
}


@pytest.mark.parametrize("dialect", list(DIALECTS.values()), ids=list(DIALECTS))
def test_dashboard_export_detects_the_csv_dialect(
    local_server: LocalServer, tmp_path: Path, dialect: dict[str, object]
) -> None:
    records = [record(i, **HOST_B_FIELDS) for i in range(3)]
    path = serve_export(local_server, file_route(csv_body(records, **dialect)))  # type: ignore[arg-type]
    settings = exporting(tmp_path, local_server)

    report = ingest.land_dashboard(settings, SNAPSHOT, [WIESBADEN])

    (request,) = local_server.requests_to(path)
    assert request.params == EXPORT_PARAMS
    assert request.headers["accept"] == "application/octet-stream"
    assert report.rows == 3
    assert report.fetched_now == 2  # one export and one ARS page
    assert report.source_url == f"{local_server.url}{HOST_B}/open-pvog/060000000000/export"
    stored = landing(settings, dashboard.SOURCE)
    name = f"export_{WIESBADEN}_own.csv"
    assert stored.sealed(f"data/{WIESBADEN}/own") == {
        "entries": [name],
        "endpoint": "export",
        "format": "csv",
    }
    assert stored.manifest()["summary"]["paged_fallback"] == []  # type: ignore[index]
    frame = ingest.read_dashboard(stored)
    assert frame.schema == {**dashboard.SCHEMA, **ingest.LINEAGE}
    assert frame.select(dashboard.FIELDS).rows() == rows_of(records)  # ARS keep the leading 0
    assert frame["raw_file"].to_list() == [name] * 3
    assert frame["record_index"].to_list() == [0, 1, 2]


def test_dashboard_export_windows_1252_body(local_server: LocalServer, tmp_path: Path) -> None:
    records = [record(0, leika_name="Hundesteuer für Größe", ozg_bezeichnung="Straße"), record(1)]
    body = csv_body(records, bom=False, encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    serve_export(local_server, file_route(body))

    report = ingest.land_dashboard(exporting(tmp_path, local_server), SNAPSHOT, [WIESBADEN])

    assert report.rows == 2
    frame = ingest.read_dashboard(landing(exporting(tmp_path, local_server), dashboard.SOURCE))
    assert frame.select(dashboard.FIELDS).rows() == rows_of(records)
    assert frame["art_flaechendeckung"][1] == "in mind. einer Kommune verfügbar"


def test_dashboard_export_quoted_fields(local_server: LocalServer, tmp_path: Path) -> None:
    tricky = 'Anmeldung; Ummeldung, "Hund"\nzweite Zeile'
    records = [record(0, leika_name=tricky, url="https://example.org/a;b,c"), record(1)]
    body = csv_body(records)
    assert b'"Anmeldung; Ummeldung, ""Hund""\nzweite Zeile";' in body
    serve_export(local_server, file_route(body))

    ingest.land_dashboard(exporting(tmp_path, local_server), SNAPSHOT, [WIESBADEN])

    frame = ingest.read_dashboard(landing(exporting(tmp_path, local_server), dashboard.SOURCE))
    assert frame.select(dashboard.FIELDS).rows() == rows_of(records)
    assert frame["record_index"].to_list() == [0, 1]  # the row within the file, not the line


def test_dashboard_export_host_a_file_answer(local_server: LocalServer, tmp_path: Path) -> None:
    # Host A's spec DvDataDto only: host B's three additional columns are optional.
    records = [record(i) for i in range(3)]
    body = csv_body(records, delimiter=",", bom=False, line_end="\n", columns=DVDATA_COLUMNS)
    path = serve_export(local_server, file_route(body), base=HOST_A)
    settings = exporting(tmp_path, local_server, base=HOST_A)

    report = ingest.land_dashboard(settings, SNAPSHOT, [WIESBADEN])

    (request,) = local_server.requests_to(path)
    assert request.params == EXPORT_PARAMS
    assert request.headers["accept"] == dashboard.EXPORT_ACCEPT_HOST_A
    assert report.rows == 3
    assert report.source_url == f"{local_server.url}{HOST_A}/v1/data/060000000000"
    frame = ingest.read_dashboard(landing(settings, dashboard.SOURCE))
    assert frame.select(dashboard.FIELDS).rows() == rows_of(records)
    assert frame["datenstand_pvog_import"].to_list() == [None] * 3
    assert frame["raw_file"].to_list() == [f"export_{WIESBADEN}_own.csv"] * 3


def test_dashboard_export_host_a_json_answer(local_server: LocalServer, tmp_path: Path) -> None:
    records = [record(i) for i in range(3)]
    path = serve_export(
        local_server, lambda _: json_reply(spring_page(records, 0, 20, False)), base=HOST_A
    )
    settings = exporting(tmp_path, local_server, base=HOST_A)

    report = ingest.land_dashboard(settings, SNAPSHOT, [WIESBADEN])

    assert [r.params for r in local_server.requests_to(path)] == [EXPORT_PARAMS]
    assert report.rows == 3
    stored = landing(settings, dashboard.SOURCE)
    name = f"export_{WIESBADEN}_own.json"
    assert stored.sealed(f"data/{WIESBADEN}/own") == {
        "entries": [name],
        "endpoint": "export",
        "format": "json",
    }
    frame = ingest.read_dashboard(stored)
    assert frame.select(dashboard.FIELDS).rows() == rows_of(records)
    assert frame["record_index"].to_list() == [0, 1, 2]


def test_dashboard_export_json_page_that_is_not_the_last_pages_instead(
    local_server: LocalServer, tmp_path: Path
) -> None:
    records = [record(i) for i in range(5)]

    def answer(request: Recorded) -> Reply:
        if "filetype" in request.params:  # the server's default page size is 2
            return json_reply(spring_page(records, 0, 2, False))
        return paged(lambda: records)(request)

    path = serve_export(local_server, answer, base=HOST_A)
    settings = exporting(tmp_path, local_server, base=HOST_A)

    report = ingest.land_dashboard(settings, SNAPSHOT, [WIESBADEN])

    params = [r.params for r in local_server.requests_to(path)]
    assert params[0] == EXPORT_PARAMS
    assert [p.get("page") for p in params[1:]] == ["0", "1", "2"]
    assert report.rows == 5
    stored = landing(settings, dashboard.SOURCE)
    exported = f"export_{WIESBADEN}_own.json"
    assert stored.sealed(f"data/{WIESBADEN}/own") == {
        "entries": [f"data_{WIESBADEN}_own_p0_{i:04d}.json" for i in range(3)],
        "passes": 1,
        "total": 5,
        "pages": 3,
        "endpoint": "paged",
        "fallback": f"export answered JSON page 0 of 3 ({exported})",
    }
    assert stored.entry(exported) is not None  # kept as received, not part of the group
    frame = ingest.read_dashboard(stored)
    assert frame["leika_key"].to_list() == [r["leika_key"] for r in records]


def test_dashboard_export_resumes_an_interrupted_landing(
    local_server: LocalServer, tmp_path: Path
) -> None:
    body = csv_body([record(i, **HOST_B_FIELDS) for i in range(2)])
    ok = file_route(body)
    failing = {"above": True}

    def answer(request: Recorded) -> Reply:
        if request.params["includeAbove"] == "true" and failing["above"]:
            return Reply(503)
        return ok(request)

    path = serve_export(local_server, answer)
    settings = live(
        tmp_path,
        local_server,
        dashboard_url=local_server.url + HOST_B,
        dashboard_endpoint="export",
        above_pulls="pilots",
    )
    with pytest.raises(SourceError, match="HTTP 503"):
        ingest.land_dashboard(settings, SNAPSHOT, [WIESBADEN])
    failing["above"] = False

    report = ingest.land_dashboard(settings, SNAPSHOT, [WIESBADEN])

    flags = [r.params["includeAbove"] for r in local_server.requests_to(path)]
    assert flags.count("false") == 1  # the own export landed in the first run is reused
    assert flags[-1] == "true"
    assert report.resumed and report.rows == 4
    assert sorted(e.name for e in landing(settings, dashboard.SOURCE).entries()) == [
        "ars_p0_0000.json",
        f"export_{WIESBADEN}_above.csv",
        f"export_{WIESBADEN}_own.csv",
    ]


def test_dashboard_export_406_names_the_accept_header(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = serve_export(local_server, file_route(csv_body([record(0)])))
    monkeypatch.setattr(dashboard, "EXPORT_ACCEPT_HOST_B", "text/csv")  # what host B refuses

    with pytest.raises(dashboard.ExportNotAcceptable) as caught:
        ingest.land_dashboard(exporting(tmp_path, local_server), SNAPSHOT, [WIESBADEN])

    (request,) = local_server.requests_to(path)  # not retried (two attempts allowed)
    assert request.headers["accept"] == "text/csv"
    assert isinstance(caught.value, SourceError)
    assert caught.value.source == "dashboard"
    assert caught.value.url.startswith(f"{local_server.url}{EXPORT_B}?filetype=csv")
    assert caught.value.reason.startswith("HTTP 406 Not Acceptable")
    assert "the server refused the header 'Accept: text/csv'" in caught.value.reason


def test_dashboard_export_413_falls_back_to_paging(
    local_server: LocalServer, tmp_path: Path
) -> None:
    records = [record(i, **HOST_B_FIELDS) for i in range(5)]
    too_large = {"status": 413, "error": "Payload Too Large"}
    path = serve_export(local_server, lambda _: json_reply(too_large, status=413))
    data_path = f"{HOST_B}/open-pvog/{WIESBADEN}"
    local_server.route(data_path, paged(lambda: records, spring33=True))
    settings = exporting(tmp_path, local_server)

    report = ingest.land_dashboard(settings, SNAPSHOT, [WIESBADEN])

    assert len(local_server.requests_to(path)) == 1  # a 413 is not retried
    assert [r.params for r in local_server.requests_to(data_path)] == [
        {"page": str(i), "size": "2", "includeAbove": "false", "includeBelow": "false"}
        for i in range(3)
    ]
    assert report.rows == 5
    stored = landing(settings, dashboard.SOURCE)
    group = f"data/{WIESBADEN}/own"
    seal = stored.sealed(group)
    assert seal is not None and seal["endpoint"] == "paged"
    assert str(seal["fallback"]).startswith("export: HTTP 413")
    assert seal["entries"] == [f"data_{WIESBADEN}_own_p0_{i:04d}.json" for i in range(3)]
    assert stored.manifest()["summary"]["paged_fallback"] == [group]  # type: ignore[index]
    frame = ingest.read_dashboard(stored)
    assert frame.select(dashboard.FIELDS).rows() == rows_of(records)


def test_dashboard_export_unknown_column_is_noted_not_fatal(
    local_server: LocalServer, tmp_path: Path
) -> None:
    records = [record(i, **HOST_B_FIELDS, barrierefrei="ja") for i in range(3)]
    body = csv_body(records)
    path = serve_export(local_server, file_route(body))
    settings = exporting(tmp_path, local_server)
    drift = DriftLog(dashboard.SOURCE)

    report = ingest.land_dashboard(settings, SNAPSHOT, [WIESBADEN], drift=drift)

    assert report.rows == 3
    url = f"{local_server.url}{path}?filetype=csv&includeAbove=false&includeBelow=false"
    assert drift.fields() == [UnknownField("dashboard", "barrierefrei", 3, "header column 17", url)]
    assert report.unknown_fields == tuple(drift.fields())
    stored = landing(settings, dashboard.SOURCE)
    assert stored.read(f"export_{WIESBADEN}_own.csv") == body  # the raw landing keeps it
    frame = ingest.read_dashboard(stored)
    assert "barrierefrei" not in frame.columns
    assert frame.select(dashboard.FIELDS).rows() == rows_of(records)


def test_dashboard_export_missing_required_column_fails(
    local_server: LocalServer, tmp_path: Path
) -> None:
    columns = tuple(c for c in dashboard.FIELDS if c != "url")
    path = serve_export(local_server, file_route(csv_body([record(0)], columns=columns)))

    with pytest.raises(dashboard.DashboardFormatError) as caught:
        ingest.land_dashboard(exporting(tmp_path, local_server), SNAPSHOT, [WIESBADEN])

    message = str(caught.value)
    assert message.startswith("dashboard: header: missing column 'url' (required; ")
    assert "read as ';'-delimited" in message
    assert f"{local_server.url}{path}?filetype=csv" in message


@pytest.mark.parametrize("content_type", ["text/html;charset=UTF-8", "application/octet-stream"])
def test_dashboard_export_html_page_is_rejected(
    local_server: LocalServer, tmp_path: Path, content_type: str
) -> None:
    page = b"<!DOCTYPE html><html><head><title>OZG-Dashboard</title></head></html>"
    serve_export(local_server, lambda _: Reply(200, page, {"Content-Type": content_type}))

    with pytest.raises(SourceError) as caught:
        ingest.land_dashboard(exporting(tmp_path, local_server), SNAPSHOT, [WIESBADEN])

    assert caught.value.source == "dashboard"
    assert "expected csv but got an HTML page (status 200)" in caught.value.reason


def _lineage_free(frame: pl.DataFrame) -> pl.DataFrame:
    """Without the lineage that names raw files; an empty string as null, since a CSV cell
    cannot tell them apart."""
    frame = frame.drop("raw_file", "raw_sha256", "record_index")
    strings = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in strings
    )


@pytest.mark.slow  # four full Dashboard landings of Hessen over HTTP, ~25 s
def test_sample_server_export_carries_what_its_json_pages_carry(tmp_path: Path) -> None:
    snapshot = date(2026, 11, 1)
    server, base = serve_in_thread(snapshot)
    try:
        host_b = f"{base}/dashboard/public/v1/dash"
        export = f"{host_b}/open-pvog/{WIESBADEN}/export"
        refused = requests.get(export, headers={"Accept": "text/csv"}, timeout=10)
        assert refused.status_code == 406
        answer = requests.get(
            export, params=EXPORT_PARAMS, headers={"Accept": "application/octet-stream"}, timeout=10
        )
        assert answer.headers["Content-Type"] == "application/octet-stream"
        assert answer.headers["Content-Disposition"].startswith("attachment;")
        assert answer.content.startswith(b"\xef\xbb\xbfleika_key;leika_name;ars;")
        assert answer.content.split(b"\n", 1)[0].endswith(b"\r")
        host_a = requests.get(f"{base}/dashboard/v1/data/{WIESBADEN}", params=EXPORT_PARAMS)
        assert host_a.content.startswith(b"leika_key,leika_name,ars,")
        assert b"\r" not in host_a.content

        ars = [BUND_ARS, "060000000000", WIESBADEN, "064390000000"]
        frames = {}
        for url in (host_b, f"{base}/dashboard"):
            for endpoint in ("export", "paged"):
                settings = Settings(
                    mode="live",
                    data_dir=tmp_path / f"{len(frames)}",
                    dashboard_url=url,
                    dashboard_endpoint=endpoint,  # type: ignore[arg-type]
                    page_size=250,  # several pages per query, few enough for the inner loop
                    http=HTTP,
                )
                report = ingest.land_dashboard(settings, snapshot, ars)
                stored = landing(settings, dashboard.SOURCE, snapshot)
                frames[(url, endpoint)] = _lineage_free(ingest.read_dashboard(stored))
                assert report.rows > 100
    finally:
        server.shutdown()
        server.server_close()
    first, *others = frames.values()
    assert first.height > 100 and first["include_above"].any()
    for other in others:
        assert other.equals(first)


# -- PVOG -----------------------------------------------------------------------------------
CSV_TYPE = {"Content-Type": "text/csv;charset=UTF-8"}


def real_csv() -> bytes:
    return files.PVOG_BUND_CSV.read_bytes()


def small_csv() -> str:
    return "\n".join(real_csv().decode("utf-8").split("\n")[:4]) + "\n"


def test_pvog_real_file_through_the_client(local_server: LocalServer, tmp_path: Path) -> None:
    local_server.add(PVOG_PATH, Reply(200, real_csv(), CSV_TYPE))
    settings = live(tmp_path, local_server)

    report = ingest.land_pvog(settings, SNAPSHOT)

    assert report.rows == 933
    (request,) = local_server.requests
    assert request.params == {"ars": BUND_ARS}
    assert request.headers["accept"] == "text/csv, */*;q=0.1"
    frame = ingest.read_pvog(landing(settings, pvog.SOURCE))
    assert frame.height == 933
    assert frame["leika_key"][0] == "99038003017001"
    assert frame["line_number"][0] == 2
    assert set(frame["query_ars"].to_list()) == {BUND_ARS}


def test_pvog_lands_one_csv_per_ars(local_server: LocalServer, tmp_path: Path) -> None:
    local_server.route(PVOG_PATH, lambda _: Reply(200, small_csv().encode(), CSV_TYPE))
    settings = live(tmp_path, local_server, pvog_ars=(BUND_ARS, WIESBADEN))

    report = ingest.land_pvog(settings, SNAPSHOT)

    assert [r.params["ars"] for r in local_server.requests] == [BUND_ARS, WIESBADEN]
    assert report.rows == 6
    assert sorted(landing(settings, pvog.SOURCE).groups()) == [
        f"csv/{BUND_ARS}",
        f"csv/{WIESBADEN}",
    ]


def test_pvog_semicolon_delimiter(local_server: LocalServer, tmp_path: Path) -> None:
    body = small_csv().replace("|", ";").encode()
    local_server.add(PVOG_PATH, Reply(200, body, CSV_TYPE))

    with pytest.raises(SourceError) as caught:
        ingest.land_pvog(live(tmp_path, local_server), SNAPSHOT)

    assert caught.value.source == "pvog"
    assert "header has no '|' separator; the header looks ';'-delimited" in caught.value.reason


def test_pvog_latin1_body(local_server: LocalServer, tmp_path: Path) -> None:
    body = small_csv().encode("latin-1")
    local_server.add(PVOG_PATH, Reply(200, body, CSV_TYPE))

    with pytest.raises(SourceError) as caught:
        ingest.land_pvog(live(tmp_path, local_server), SNAPSHOT)

    position = body.index("ü".encode("latin-1"))  # in the header's "Leikaschlüssel"
    assert f"body is not UTF-8 at byte {position} (wrong encoding?)" in caught.value.reason


def _drop_column(text: str, index: int) -> str:
    rows = [line.split("|") for line in text.strip("\n").split("\n")]
    return "\n".join("|".join(f for i, f in enumerate(row) if i != index) for row in rows)


def _add_column(text: str, name: str) -> str:
    header, *rows = text.strip("\n").split("\n")
    return "\n".join([f"{header}|{name}", *(f"{row}|x" for row in rows)])


@pytest.mark.parametrize(
    ("change", "message"),
    [(lambda text: _drop_column(text, 3), "missing column 'Name2' in header")],
    ids=["missing"],
)
def test_pvog_header_drift(
    local_server: LocalServer, tmp_path: Path, change: Callable[[str], str], message: str
) -> None:
    local_server.add(PVOG_PATH, Reply(200, change(small_csv()).encode(), CSV_TYPE))

    with pytest.raises(SourceError) as caught:
        ingest.land_pvog(live(tmp_path, local_server), SNAPSHOT)

    assert message in caught.value.reason
    assert caught.value.source == "pvog"
    assert caught.value.url == f"{local_server.url}{PVOG_PATH}?ars={BUND_ARS}"


def test_pvog_extra_column_is_recorded_not_fatal(local_server: LocalServer, tmp_path: Path) -> None:
    local_server.add(
        PVOG_PATH, Reply(200, _add_column(small_csv(), "Zuständigkeit").encode(), CSV_TYPE)
    )
    settings = live(tmp_path, local_server)
    drift = DriftLog(pvog.SOURCE)

    report = ingest.land_pvog(settings, SNAPSHOT, drift=drift)

    url = f"{local_server.url}{PVOG_PATH}?ars={BUND_ARS}"
    expected = UnknownField("pvog", "Zuständigkeit", 3, "header, column 9", url)
    assert report.rows == 3
    assert report.unknown_fields == (expected,) and drift.fields() == [expected]
    manifest = landing(settings, pvog.SOURCE).manifest()
    assert manifest["summary"]["unknown_fields"] == [  # type: ignore[index]
        {
            "source": "pvog",
            "field": "Zuständigkeit",
            "records": 3,
            "first_record": "header, column 9",
            "url": url,
        }
    ]
    frame = ingest.read_pvog(landing(settings, pvog.SOURCE))
    plain = pvog.parse_csv(small_csv().encode())
    assert frame.select(plain.columns).equals(plain)


@pytest.mark.parametrize("client_id", ["", "bmds-hessen-42"])
def test_pvog_client_id_header(local_server: LocalServer, tmp_path: Path, client_id: str) -> None:
    local_server.add(PVOG_PATH, Reply(200, small_csv().encode(), CSV_TYPE))

    ingest.land_pvog(live(tmp_path, local_server, pvog_client_id=client_id), SNAPSHOT)

    (request,) = local_server.requests
    if client_id:
        assert request.headers[pvog.CLIENT_ID_HEADER] == client_id
    else:
        assert pvog.CLIENT_ID_HEADER not in request.headers


# -- FIM ------------------------------------------------------------------------------------
FIM_PATH = fim.PATH


def fim_item(index: int) -> dict[str, object]:
    key = f"9901200301{index:04d}"
    return {
        "redaktion_id": "L100001",
        "leistung_id": f"L{index}",
        "source": "leika",
        "title": f"Steckbrief {index}",
        "leistungsschluessel": [key],
        "leistungstyp": "lo",
        "leistungsadressat": ["001"],
        "typisierung": ["4"],
        "freigabe_status": 4,
        "ozg": [{"leistungsschluessel": key, "id": str(600 + index), "themenfeld": "umwelt"}],
    }


def serve_fim(server: LocalServer, items: list[dict[str, object]]) -> None:
    def answer(request: Recorded) -> Reply:
        offset, limit = int(request.params["offset"]), int(request.params["limit"])
        chunk = items[offset : offset + limit]
        document = {
            "items": chunk,
            "offset": offset,
            "limit": limit,
            "count": len(chunk),
            "total_count": len(items),
        }
        return json_reply(document)

    server.route(FIM_PATH, answer)


def test_fim_offset_limit_paging(local_server: LocalServer, tmp_path: Path) -> None:
    serve_fim(local_server, [fim_item(i) for i in range(5)])
    settings = live(tmp_path, local_server)

    report = ingest.land_fim(settings, SNAPSHOT)

    assert [r.params for r in local_server.requests] == [
        {"offset": str(o), "limit": "2", "order_by": "leistungsschluessel_asc"} for o in (0, 2, 4)
    ]
    assert report.rows == 5
    stored = landing(settings, fim.SOURCE)
    assert stored.sealed(ingest.FIM_GROUP) == {
        "entries": [f"steckbriefe_p0_{i:04d}.json" for i in range(3)],
        "passes": 1,
        "total": 5,
        "pages": 3,
    }
    frame = ingest.read_fim(stored)
    assert frame["ozg_id"].to_list() == ["600", "601", "602", "603", "604"]
    assert frame["themenfeld"].to_list() == ["umwelt"] * 5


def test_fim_limit_is_capped_at_200(local_server: LocalServer, tmp_path: Path) -> None:
    serve_fim(local_server, [fim_item(i) for i in range(3)])

    report = ingest.land_fim(live(tmp_path, local_server, page_size=500), SNAPSHOT)

    assert [r.params["limit"] for r in local_server.requests] == ["200"]
    assert report.rows == 3


def test_fim_unknown_field_is_drift(local_server: LocalServer, tmp_path: Path) -> None:
    items = [fim_item(0), {**fim_item(1), "neu": 1}, {**fim_item(2), "neu": 2}]
    items[2]["ozg"] = [{**items[2]["ozg"][0], "reifegrad": 3}]  # type: ignore[index]
    serve_fim(local_server, items)
    settings = live(tmp_path, local_server)

    report = ingest.land_fim(settings, SNAPSHOT)

    first_page = f"{local_server.url}{FIM_PATH}?offset=0&limit=2&order_by=leistungsschluessel_asc"
    second_page = first_page.replace("offset=0", "offset=2")
    assert report.rows == 3
    assert report.unknown_fields == (
        UnknownField("fim", "neu", 2, "item 1 (leistungsschluessel 99012003010001)", first_page),
        UnknownField(
            "fim", "ozg.reifegrad", 1, "item 0 (leistungsschluessel 99012003010002)", second_page
        ),
    )
    summary = landing(settings, fim.SOURCE).manifest()["summary"]
    assert [f["field"] for f in summary["unknown_fields"]] == ["neu", "ozg.reifegrad"]  # type: ignore[index]
    assert summary["unknown_fields"][0]["records"] == 2  # type: ignore[index]
    # A reused landing reports the same drift, as its manifest recorded it.
    again = ingest.land_fim(settings, SNAPSHOT)
    assert again.reused and again.unknown_fields == report.unknown_fields


def steckbrief(index: int, **changes: object) -> dict[str, object]:
    """An item in the shape the live list answers: string key, one ozg object, pairs."""
    item: dict[str, object] = {
        "leistungsschluessel": f"9901200301{index:04d}",
        "title": f"Steckbrief {index}",
        "leistungsbezeichnung": f"Steckbrief {index}",
        "leistungsbezeichnung_2": None,
        "freigabe_status": 6,
        "geaendert_datum_zeit": "2026-10-01T08:00:00",
        "rechtsgrundlagen": None,
        "leistung_stammtexte": [["L100001", f"L{index}"]],
        "ozg": {
            "id": str(600 + index),
            "leistung": "Leistung",
            "themenfeld": "umwelt",
            "themenfeld_label": "Umwelt",
            "vollzugsbehoerden": [],
        },
    }
    item.update(changes)
    return item


def serve_fim_live(
    server: LocalServer, items: list[dict[str, object]], path: str = FIM_PATH, total: int = 0
) -> None:
    """The evidenced envelope: ``items`` and ``total_count`` only."""

    def answer(request: Recorded) -> Reply:
        offset, limit = int(request.params["offset"]), int(request.params["limit"])
        if not 1 <= limit <= 200:
            detail = [
                {"loc": ["query", "limit"], "msg": "Input should be less than or equal to 200"}
            ]
            return json_reply({"detail": detail}, status=422)
        return json_reply(
            {"items": items[offset : offset + limit], "total_count": total or len(items)}
        )

    server.route(path, answer)


def test_fim_evidenced_envelope_pages_by_the_request(
    local_server: LocalServer, tmp_path: Path
) -> None:
    serve_fim_live(local_server, [steckbrief(i) for i in range(5)])
    settings = live(tmp_path, local_server)

    report = ingest.land_fim(settings, SNAPSHOT)

    assert [r.params["offset"] for r in local_server.requests] == ["0", "2", "4"]
    assert report.rows == 5 and report.unknown_fields == ()
    stored = landing(settings, fim.SOURCE)
    assert stored.sealed(ingest.FIM_GROUP)["total"] == 5  # type: ignore[index]
    assert stored.manifest()["summary"]["items"] == 5  # type: ignore[index]
    frame = ingest.read_fim(stored)
    assert frame["leika_key"].to_list() == [f"9901200301{i:04d}" for i in range(5)]
    assert frame["ozg_id"].to_list() == ["600", "601", "602", "603", "604"]
    assert frame["leistung_id"].to_list() == ["L0", "L1", "L2", "L3", "L4"]
    assert frame["typisierung"].to_list() == [[]] * 5


def test_fim_empty_page_before_the_total_stops(local_server: LocalServer, tmp_path: Path) -> None:
    # The server announces 9 items but has 3: paging must end on the empty page.
    serve_fim_live(local_server, [steckbrief(i) for i in range(3)], total=9)
    settings = live(tmp_path, local_server)

    report = ingest.land_fim(settings, SNAPSHOT)

    assert [r.params["offset"] for r in local_server.requests] == ["0", "2", "4"]
    assert report.rows == 3
    summary = landing(settings, fim.SOURCE).manifest()["summary"]
    assert (summary["items"], summary["total_count"]) == (3, 9)  # type: ignore[index]


def test_fim_v1_path_via_environment(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OZG_FIM_PATH", fim.PATH_V1)
    serve_fim_live(local_server, [steckbrief(0)], path=fim.PATH_V1)
    base = live(tmp_path, local_server)
    settings = Settings.from_env(
        mode="live", data_dir=tmp_path, fim_url=base.fim_url, http=HTTP, page_size=2
    )

    report = ingest.land_fim(settings, SNAPSHOT)

    assert settings.fim_path == "/api/v1/leistung-steckbriefe"
    assert {r.path for r in local_server.requests} == {fim.PATH_V1}
    assert report.rows == 1
    assert report.source_url == local_server.url + fim.PATH_V1


def test_fim_missing_key_names_source_field_record_and_url(
    local_server: LocalServer, tmp_path: Path
) -> None:
    broken = steckbrief(3)
    del broken["leistungsschluessel"]
    serve_fim_live(local_server, [steckbrief(0), steckbrief(1), steckbrief(2), broken])

    with pytest.raises(fim.FimFormatError) as caught:
        ingest.land_fim(live(tmp_path, local_server), SNAPSHOT)

    url = f"{local_server.url}{FIM_PATH}?offset=2&limit=2&order_by=leistungsschluessel_asc"
    assert str(caught.value) == (
        f"fim: item 1 (title 'Steckbrief 3'): missing required field 'leistungsschluessel' ({url})"
    )


@pytest.mark.parametrize("field", ["items", "total_count"])
def test_fim_missing_envelope_field_fails(
    local_server: LocalServer, tmp_path: Path, field: str
) -> None:
    document: dict[str, object] = {"items": [steckbrief(0)], "total_count": 1}
    del document[field]
    local_server.route(FIM_PATH, lambda _: json_reply(document))

    with pytest.raises(fim.FimFormatError) as caught:
        ingest.land_fim(live(tmp_path, local_server), SNAPSHOT)

    url = f"{local_server.url}{FIM_PATH}?offset=0&limit=2&order_by=leistungsschluessel_asc"
    assert str(caught.value) == (
        f"fim: response envelope: missing required field {field!r} ({url})"
    )


def test_fim_422_names_the_detail(local_server: LocalServer, tmp_path: Path) -> None:
    serve_fim_live(local_server, [steckbrief(0)])
    client = fim.FimClient.create(local_server.url, HTTP)

    with pytest.raises(SourceError) as caught:
        client.fetch_page(0, 0)  # limit 0: the API's range is 1–200

    assert caught.value.source == "fim"
    assert "detail: query.limit: Input should be less than or equal to 200" in str(caught.value)
    assert len(local_server.requests) == 1  # a 422 is not retried


# -- Destatis GV100AD -----------------------------------------------------------------------
ETAG = '"gv100ad-2025"'
LAST_MODIFIED = "Fri, 31 Oct 2025 08:00:00 GMT"


def gv100ad_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("GV100AD_30112025.txt", files.GV100AD_TXT.read_bytes())
    return buffer.getvalue()


def test_destatis_zip_then_304_on_next_snapshot(local_server: LocalServer, tmp_path: Path) -> None:
    body = gv100ad_zip()
    path = destatis.ANNUAL_PATH.format(year=2025)
    validators = {"ETag": ETAG, "Last-Modified": LAST_MODIFIED}

    def answer(request: Recorded) -> Reply:
        if request.headers.get("if-none-match") == ETAG:
            return Reply(304, headers=validators)
        return Reply(200, body, {"Content-Type": "application/zip", **validators})

    local_server.route(path, answer)
    settings = live(tmp_path, local_server)
    expected_rows = files.gv100ad_frame().height

    first = ingest.land_destatis(settings, SNAPSHOT)
    second = ingest.land_destatis(settings, date(2026, 2, 1))

    assert first.rows == second.rows == expected_rows
    one, two = local_server.requests
    assert one.path == two.path == path
    assert one.params == two.params == {"__blob": "publicationFile"}
    assert "if-none-match" not in one.headers
    assert two.headers["if-none-match"] == ETAG
    assert two.headers["if-modified-since"] == LAST_MODIFIED
    old = landing(settings, destatis.SOURCE).manifest()["entries"]
    new = landing(settings, destatis.SOURCE, date(2026, 2, 1)).manifest()["entries"]
    (old_entry,), (new_entry,) = old, new  # type: ignore[misc]
    assert old_entry["status"] == 200
    assert old_entry["not_modified_from"] is None
    assert new_entry["status"] == 304
    assert new_entry["not_modified_from"] == SNAPSHOT.isoformat()
    assert new_entry["sha256"] == old_entry["sha256"]
    assert new_entry["size"] == len(body)
    stored = tmp_path / "raw" / destatis.SOURCE / "2026-02-01" / f"{new_entry['name']}.gz"
    assert gzip.decompress(stored.read_bytes()) == body


def test_destatis_zip_without_gv100ad_member(local_server: LocalServer, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "nothing here")
    local_server.add(
        destatis.ANNUAL_PATH.format(year=2025),
        Reply(200, buffer.getvalue(), {"Content-Type": "application/zip"}),
    )

    with pytest.raises(SourceError) as caught:
        ingest.land_destatis(live(tmp_path, local_server), SNAPSHOT)

    assert caught.value.source == destatis.SOURCE
    assert "zip holds no GV100AD_*.txt member: ['README.txt']" in caught.value.reason


ZIP_TYPE = {"Content-Type": "application/zip"}
HTML_PAGE = Reply(
    200, b"<!DOCTYPE html><html>Gemeindeverzeichnis</html>", {"Content-Type": "text/html"}
)


def test_destatis_underscore_form_answers_first(local_server: LocalServer, tmp_path: Path) -> None:
    local_server.route(
        destatis.ANNUAL_PATH.format(year=2025), lambda _: Reply(200, gv100ad_zip(), ZIP_TYPE)
    )
    settings = live(tmp_path, local_server)

    report = ingest.land_destatis(settings, SNAPSHOT)

    assert [r.path for r in local_server.requests] == [
        f"{destatis.ARCHIVE}/GV100ADJ/GV100AD_31122025.zip"
    ]
    assert (
        report.source_url == f"{local_server.url}{destatis.ARCHIVE}/GV100ADJ/GV100AD_31122025.zip"
    )
    manifest = landing(settings, destatis.SOURCE).manifest()
    summary = manifest["summary"]
    assert [e["name"] for e in manifest["entries"]] == ["GV100AD_31122025.zip"]  # type: ignore[index]
    assert (summary["edition"], summary["member"], summary["encoding"]) == (  # type: ignore[index]
        "2025-12-31",
        "GV100AD_30112025.txt",
        "utf-8",
    )
    assert [t["outcome"] for t in summary["tried"]] == [  # type: ignore[index]
        "HTTP 200, GV100AD_30112025.txt (utf-8)"
    ]


def test_destatis_2018_form_after_a_404_then_304_on_it(
    local_server: LocalServer, tmp_path: Path
) -> None:
    old_form = destatis.ANNUAL_PATH_2018.format(year=2024)
    validators = {"ETag": ETAG, "Last-Modified": LAST_MODIFIED}

    def answer(request: Recorded) -> Reply:
        if request.headers.get("if-none-match") == ETAG:
            return Reply(304, headers=validators)
        return Reply(200, gv100ad_zip(), {**ZIP_TYPE, **validators})

    local_server.route(old_form, answer)  # the underscore form is not scripted: 404
    settings = live(tmp_path, local_server)

    first = ingest.land_destatis(settings, date(2025, 6, 1))
    second = ingest.land_destatis(settings, date(2025, 7, 1))

    underscore = destatis.ANNUAL_PATH.format(year=2024)
    requests_ = local_server.requests
    assert [r.path for r in requests_] == [underscore, old_form, underscore, old_form]
    # Validators go to the URL that answered before, and only there.
    assert "if-none-match" not in requests_[2].headers
    assert requests_[3].headers["if-none-match"] == ETAG
    assert first.rows == second.rows == files.gv100ad_frame().height
    assert first.source_url == second.source_url == local_server.url + old_form
    manifest = landing(settings, destatis.SOURCE, date(2025, 7, 1)).manifest()
    (entry,) = manifest["entries"]  # type: ignore[misc]
    assert (entry["name"], entry["status"], entry["not_modified_from"]) == (
        "GV100AD31122024.zip",
        304,
        "2025-06-01",
    )
    tried = [(t["url"].split("?")[0], t["outcome"]) for t in manifest["summary"]["tried"]]  # type: ignore[index]
    assert tried == [
        (local_server.url + underscore, "HTTP 404"),
        (local_server.url + old_form, "HTTP 304 (not modified)"),
    ]


def test_destatis_html_page_moves_to_the_next_form(
    local_server: LocalServer, tmp_path: Path
) -> None:
    local_server.add(destatis.ANNUAL_PATH.format(year=2025), HTML_PAGE)
    local_server.add(
        destatis.ANNUAL_PATH_2018.format(year=2025), Reply(200, gv100ad_zip(), ZIP_TYPE)
    )

    report = ingest.land_destatis(live(tmp_path, local_server), SNAPSHOT)

    assert report.rows == files.gv100ad_frame().height
    assert report.source_url.endswith("/GV100AD31122025.zip")


def test_destatis_all_forms_failing_lists_every_url(
    local_server: LocalServer, tmp_path: Path
) -> None:
    local_server.add(destatis.ANNUAL_PATH_2018.format(year=2025), HTML_PAGE)

    with pytest.raises(SourceError) as caught:
        ingest.land_destatis(live(tmp_path, local_server), SNAPSHOT)

    base = local_server.url + destatis.ARCHIVE + "/GV100ADJ"
    query = "?__blob=publicationFile"
    assert caught.value.source == destatis.SOURCE
    assert caught.value.reason == (
        "no GV100AD zip for the edition 31.12.2025 at any known URL; tried: "
        f"{base}/GV100AD_31122025.zip{query} -> HTTP 404; "
        f"{base}/GV100AD31122025.zip{query} -> HTML page instead of the zip"
    )
    assert not landing(live(tmp_path, local_server), destatis.SOURCE).entries()


def test_destatis_server_error_is_not_a_missing_file(
    local_server: LocalServer, tmp_path: Path
) -> None:
    local_server.route(destatis.ANNUAL_PATH.format(year=2025), lambda _: Reply(503))

    with pytest.raises(SourceError) as caught:
        ingest.land_destatis(live(tmp_path, local_server), SNAPSHOT)

    assert "gave up after 2 attempt(s)" in caught.value.reason
    assert "tried: " in caught.value.reason
    assert {r.path for r in local_server.requests} == {destatis.ANNUAL_PATH.format(year=2025)}


def test_destatis_edition_from_environment_uses_the_quarterly_archive(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OZG_GV100AD_EDITION", "2025-11-30")
    settings = Settings.from_env(
        mode="live", data_dir=tmp_path, destatis_url=local_server.url, http=HTTP
    )
    yearless = f"{destatis.ARCHIVE}/GV100ADQ/GV100AD3011.zip"
    local_server.route(yearless, lambda _: Reply(200, gv100ad_zip(), ZIP_TYPE))

    report = ingest.land_destatis(settings, date(2026, 1, 15))

    assert settings.gv100ad_edition == date(2025, 11, 30)
    assert [r.path for r in local_server.requests] == [
        f"{destatis.ARCHIVE}/GV100ADQ/GV100AD_30112025.zip",
        f"{destatis.ARCHIVE}/GV100ADQ/GV100AD30112025.zip",
        yearless,
    ]
    assert report.rows == files.gv100ad_frame().height
    summary = landing(settings, destatis.SOURCE).manifest()["summary"]
    assert (summary["edition"], summary["gebietsstand"]) == ("2025-11-30", "2025-11-30")  # type: ignore[index]

    # The year-less name holds whatever year is current: a file of another Gebietsstand is
    # not taken for the edition asked for.
    other = live(tmp_path / "other", local_server, gv100ad_edition=date(2026, 11, 30))
    with pytest.raises(SourceError) as caught:
        ingest.land_destatis(other, date(2026, 12, 1))
    assert (
        "GV100AD3011.zip?__blob=publicationFile -> another edition (Gebietsstand 2025-11-30)"
        in (caught.value.reason)
    )


def test_destatis_invalid_edition_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OZG_GV100AD_EDITION", "31.12.2025")
    with pytest.raises(ValueError, match="OZG_GV100AD_EDITION must be a date YYYY-MM-DD"):
        Settings.from_env(mode="live")


def test_destatis_asc_member_in_windows_1252(local_server: LocalServer, tmp_path: Path) -> None:
    # Hessen's records (the whole file has names outside Windows-1252, e.g. "ś").
    lines = files.GV100AD_TXT.read_text(encoding="utf-8").splitlines()
    hessen = [line for line in lines if line[10:12] == "06"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("GV100AD_311219.ASC", "\r\n".join(hessen).encode("cp1252"))
    local_server.add(
        destatis.ANNUAL_PATH.format(year=2025), Reply(200, buffer.getvalue(), ZIP_TYPE)
    )
    settings = live(tmp_path, local_server)

    report = ingest.land_destatis(settings, SNAPSHOT)

    summary = landing(settings, destatis.SOURCE).manifest()["summary"]
    assert (summary["member"], summary["encoding"]) == ("GV100AD_311219.ASC", "cp1252")  # type: ignore[index]
    frame = ingest.read_gv100ad(landing(settings, destatis.SOURCE))
    assert report.rows == frame.height
    expected = files.gv100ad_frame().filter(pl.col("land") == "06").drop("line_number")
    assert frame.drop("line_number").equals(expected)
    assert frame.filter(pl.col("name").str.contains("[äöüß]")).height > 50


def test_manifest_is_valid_json_for_every_source(local_server: LocalServer, tmp_path: Path) -> None:
    """One full live run of all four sources against the local server."""
    serve_dashboard(local_server, [record(i) for i in range(3)])
    local_server.route(PVOG_PATH, lambda _: Reply(200, small_csv().encode(), CSV_TYPE))
    serve_fim(local_server, [fim_item(i) for i in range(3)])
    local_server.route(
        destatis.ANNUAL_PATH.format(year=2025),
        lambda _: Reply(200, gv100ad_zip(), {"Content-Type": "application/zip"}),
    )
    settings = live(tmp_path, local_server)

    gv = ingest.land_destatis(settings, SNAPSHOT)
    ars = ingest.query_ars(ingest.read_gv100ad(landing(settings, destatis.SOURCE)), "06")
    reports = [
        gv,
        ingest.land_dashboard(settings, SNAPSHOT, [WIESBADEN]),
        ingest.land_pvog(settings, SNAPSHOT),
        ingest.land_fim(settings, SNAPSHOT),
    ]

    assert ars[0] == BUND_ARS and WIESBADEN in ars
    assert [r.rows for r in reports] == [files.gv100ad_frame().height, 3, 3, 3]
    for report in reports:
        manifest = json.loads((report.directory / "manifest.json").read_text("utf-8"))
        assert manifest["mode"] == "live"
        assert manifest["sample"] is False
        assert manifest["entry_count"] == report.entries
