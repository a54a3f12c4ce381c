"""The real source clients and ``sources.ingest`` against a local server speaking the
documented wire formats (``../shared/docs/sources.md`` §1c–1d, §2e, §3, §4)."""

from __future__ import annotations

import gzip
import io
import json
import math
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from http_server import FAST_HTTP, LocalServer, Recorded, Reply, json_reply

from sources import dashboard, destatis, fim, ingest, pvog
from sources.config import BUND_ARS, Settings
from sources.http import SourceError
from sources.landing import SnapshotLanding
from sources.sample import files

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


def test_dashboard_extra_column_names_it(local_server: LocalServer, tmp_path: Path) -> None:
    serve_dashboard(local_server, [record(0), record(1), record(2, barrierefrei="ja")])

    with pytest.raises(dashboard.DashboardFormatError) as caught:
        ingest.land_dashboard(live(tmp_path, local_server), SNAPSHOT, [WIESBADEN])

    assert "unexpected column 'barrierefrei'" in str(caught.value)
    assert "record 0 (leika_key 99041006010002)" in str(caught.value)  # first on page 2
    assert "page=1&size=2" in str(caught.value)


def test_dashboard_page_without_paging_fields_fails(
    local_server: LocalServer, tmp_path: Path
) -> None:
    local_server.route(f"{HOST_A}/v1/ars", paged(lambda: ARS_RECORDS))
    local_server.route(f"{HOST_A}/v1/data/{WIESBADEN}", lambda _: json_reply({"content": []}))

    with pytest.raises(dashboard.DashboardFormatError, match="neither 'last' nor 'totalPages'"):
        ingest.land_dashboard(live(tmp_path, local_server), SNAPSHOT, [WIESBADEN])


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
    assert request.headers["accept"] == "text/csv"
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
    [
        (lambda text: _drop_column(text, 3), "missing column 'Name2' in header"),
        (lambda text: _add_column(text, "Zuständigkeit"), "unexpected column 'Zuständigkeit'"),
    ],
    ids=["missing", "extra"],
)
def test_pvog_header_drift(
    local_server: LocalServer, tmp_path: Path, change: Callable[[str], str], message: str
) -> None:
    local_server.add(PVOG_PATH, Reply(200, change(small_csv()).encode(), CSV_TYPE))

    with pytest.raises(SourceError) as caught:
        ingest.land_pvog(live(tmp_path, local_server), SNAPSHOT)

    assert message in caught.value.reason


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


def test_fim_unknown_field_fails(local_server: LocalServer, tmp_path: Path) -> None:
    serve_fim(local_server, [fim_item(0), {**fim_item(1), "neu": 1}])

    with pytest.raises(fim.FimFormatError) as caught:
        ingest.land_fim(live(tmp_path, local_server), SNAPSHOT)

    assert "item 1 (leistungsschluessel 99012003010001): unexpected field 'neu'" in str(
        caught.value
    )


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
