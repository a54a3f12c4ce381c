"""Land one snapshot of each source in the raw zone: the plain functions behind the
Dagster raw assets (tests call them directly).

Each ``land_*`` function is idempotent: a complete snapshot is reused, an
interrupted one resumed, and ``force=True`` re-lands it (the old copy is kept aside).
Parsing every landed body once here validates the wire format early, so a schema
drift fails the ingest with the source, record and column named.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import requests

from sources import dashboard, destatis, fim, pvog
from sources.config import BUND_ARS, PILOT_ARS, Settings
from sources.contract import DriftLog, UnknownField
from sources.http import SourceError
from sources.identifiers import is_ars, validate_ars
from sources.landing import MANIFEST, SnapshotLanding, previous_complete
from sources.paging import LandingProgress, land_paged, report_progress


@dataclass(frozen=True)
class LandingReport:
    source: str
    snapshot: str
    mode: str
    directory: Path
    reused: bool
    resumed: bool
    fetched_now: int  # responses received in this run
    entries: int
    groups: int
    rows: int
    bytes_received: int
    bytes_stored: int
    source_url: str
    unknown_fields: tuple[UnknownField, ...] = ()  # additive drift seen in the landed bodies

    @property
    def sample(self) -> bool:
        return self.mode == "sample"


def effective_settings(settings: Settings) -> Settings:
    """Sample mode talks to an in-process replay: no politeness pause needed."""
    if settings.mode == "sample":
        return replace(settings, http=replace(settings.http, min_interval=0.0))
    return settings


def open_session(settings: Settings, snapshot: date) -> requests.Session:
    if settings.mode == "sample":
        from sources.replay import replay_session

        return replay_session(settings, snapshot)
    return requests.Session()


def _landing(settings: Settings, source: str, snapshot: date, force: bool) -> SnapshotLanding:
    return SnapshotLanding(
        settings.raw_root(source), source, snapshot.isoformat(), mode=settings.mode, force=force
    )


def _report(landing: SnapshotLanding, before: int, rows: int, source_url: str) -> LandingReport:
    entries = landing.entries()
    return LandingReport(
        source=landing.source,
        snapshot=landing.snapshot,
        mode=landing.mode,
        directory=landing.dir,
        reused=landing.reused,
        resumed=landing.resumed,
        fetched_now=0 if landing.reused else len(entries) - before,
        entries=len(entries),
        groups=len(landing.groups()),
        rows=rows,
        bytes_received=sum(e.size for e in entries),
        bytes_stored=sum(e.stored_size for e in entries),
        source_url=source_url,
    )


def _recorded_rows(landing: SnapshotLanding, drift: DriftLog, count: str = "rows") -> int | None:
    """A reused landing's row count and unknown fields as its manifest recorded them when it
    completed — the parse of exactly these bytes: every sealed body is first checked against
    its sha256 (``SnapshotLanding.verify``), so a modified raw file still fails here. The
    fields are noted in ``drift``. None for a landing still open or forced, or one whose
    manifest predates the record (the caller parses)."""
    if not landing.reused:
        return None
    summary = landing.manifest().get("summary")
    if not isinstance(summary, dict) or count not in summary or "unknown_fields" not in summary:
        return None
    landing.verify()
    for field in summary["unknown_fields"]:
        drift.note(field["field"], field["first_record"], field["url"], count=field["records"])
    return int(summary[count])


# -- Destatis GV100AD ----------------------------------------------------------------------
GV100AD_GROUP = "gv100ad"


def land_destatis(
    settings: Settings,
    snapshot: date,
    *,
    session: requests.Session | None = None,
    force: bool = False,
    drift: DriftLog | None = None,
) -> LandingReport:
    """Land the GV100AD edition of ``snapshot`` (``OZG_GV100AD_EDITION`` or the annual rule):
    its URL forms are tried in order, and a URL that answered an earlier snapshot is asked
    conditionally (a 304 lands the confirmed earlier body). Drift is noted in ``drift``."""
    settings = effective_settings(settings)
    landing = _landing(settings, destatis.SOURCE, snapshot, force)
    before = len(landing.entries())
    client = destatis.DestatisClient.create(
        settings.destatis_url,
        settings.http,
        session or open_session(settings, snapshot),
        settings.gv100ad_edition,
    )
    tried: list[tuple[str, str]] = []
    if landing.sealed(GV100AD_GROUP) is None:
        landed = [e.name for e in landing.entries() if e.group == GV100AD_GROUP]
        if not landed:  # else: an interrupted run stored the zip but did not seal it
            landed = [_fetch_gv100ad(settings, snapshot, landing, client)]
            tried = list(client.tried)
        landing.seal(GV100AD_GROUP, landed[:1])
    drift = drift if drift is not None else DriftLog(destatis.SOURCE)
    records = _recorded_rows(landing, drift, count="records")
    if records is None:
        frame = read_gv100ad(landing, drift=drift)
        records = frame.height
        if not landing.is_complete:
            ((_, body),) = landing.group_bodies(GV100AD_GROUP)
            member = destatis.extract_member(body)
            landing.complete(
                records=records,
                gebietsstand=str(frame["gebietsstand"].max()),
                edition=client.edition(snapshot).isoformat(),
                member=member.name,
                encoding=member.encoding,
                tried=[{"url": url, "outcome": outcome} for url, outcome in tried],
                unknown_fields=drift.frame().to_dicts(),
            )
    ((entry, _),) = landing.group_bodies(GV100AD_GROUP)
    report = _report(landing, before, records, entry.url.split("?", 1)[0])
    return replace(report, unknown_fields=tuple(drift.fields()))


def _fetch_gv100ad(
    settings: Settings,
    snapshot: date,
    landing: SnapshotLanding,
    client: destatis.DestatisClient,
) -> str:
    """Fetch the edition (conditionally where an earlier snapshot has a body from the same
    URL) and store it under the file name of the URL that answered."""
    previous = previous_complete(
        settings.raw_root(destatis.SOURCE), destatis.SOURCE, snapshot.isoformat()
    )
    priors: dict[str, str] = {}  # URL -> name of the entry it answered
    validators: dict[str, dict[str, str]] = {}
    if previous is not None:
        for prior in previous.entries():
            if prior.group != GV100AD_GROUP:
                continue
            url = prior.url.split("?", 1)[0]
            priors[url] = prior.name
            validators[url] = {
                "etag": prior.headers.get("etag", ""),
                "last-modified": prior.headers.get("last-modified", ""),
            }
    fetched = client.fetch_edition(snapshot, validators)
    name = destatis.entry_name(fetched.url)
    prior = priors.get(fetched.url.split("?", 1)[0])
    if fetched.not_modified and previous is not None and prior is not None:
        # 304: the edition did not change; land the confirmed body, say where it came from.
        landing.store(
            name,
            fetched,
            group=GV100AD_GROUP,
            body=previous.read(prior),
            not_modified_from=previous.snapshot,
        )
    else:
        landing.store(name, fetched, group=GV100AD_GROUP)
    return name


def read_gv100ad(landing: SnapshotLanding, *, drift: DriftLog | None = None) -> pl.DataFrame:
    ((entry, body),) = landing.group_bodies(GV100AD_GROUP)
    try:
        return destatis.parse_zip(body, url=entry.url, drift=drift)
    except destatis.Gv100adFormatError as exc:
        raise SourceError(destatis.SOURCE, entry.url, str(exc)) from exc


def query_ars(gv100ad: pl.DataFrame, land: str) -> list[str]:
    """Every ARS to pull for a Land: Bund, Land, its Kreise and Gemeinden (deduplicated)."""
    in_land = gv100ad.filter((pl.col("land") == land) & pl.col("satzart").is_in(["10", "40", "60"]))
    if in_land.is_empty():
        raise ValueError(f"Land {land!r} has no records in the Gemeindeverzeichnis")
    return [BUND_ARS, *sorted(set(in_land["ars"].to_list()))]


# -- Dashboard Digitale Verwaltung --------------------------------------------------------
ARS_LIST_GROUP = "ars_list"


def _data_group(ars: str, above: bool) -> str:
    return f"data/{ars}/{'above' if above else 'own'}"


def dashboard_queries(settings: Settings, ars_list: Iterable[str]) -> list[tuple[str, bool]]:
    """(ARS, includeAbove) pairs: the own entries of every ARS, plus the citizen view
    as the API computes it for the pilots (or all), to cross-check our inheritance."""
    ars_list = list(ars_list)
    queries = [(ars, False) for ars in ars_list]
    if settings.above_pulls == "all":
        above = [a for a in ars_list if a != BUND_ARS]
    elif settings.above_pulls == "pilots":
        above = [a for a in ars_list if a in PILOT_ARS]
    else:
        above = []
    return queries + [(ars, True) for ars in above]


def land_dashboard(
    settings: Settings,
    snapshot: date,
    ars_list: Iterable[str],
    *,
    session: requests.Session | None = None,
    force: bool = False,
    drift: DriftLog | None = None,
) -> LandingReport:
    """Land the ARS list and one data query per (ARS, query scope): with the ``export``
    endpoint one file per query (a 413 pages that query instead), with ``paged`` its pages.
    Unknown fields of the landed bodies are noted in ``drift``."""
    settings = effective_settings(settings)
    landing = _landing(settings, dashboard.SOURCE, snapshot, force)
    before = len(landing.entries())
    client = dashboard.DashboardClient.create(
        settings.dashboard_url, settings.http, session or open_session(settings, snapshot)
    )
    size = settings.page_size
    endpoint = settings.dashboard_endpoint
    drift = drift if drift is not None else DriftLog(dashboard.SOURCE)
    queried = list(ars_list)
    api_only: list[str] = []
    ars_list_error = None
    if not landing.is_complete:
        # For the progress display: the ARS list and one data query per (ARS, scope).
        report_progress(
            LandingProgress(dashboard.SOURCE, queries=1 + len(dashboard_queries(settings, queried)))
        )
        # The API's own ARS list first: an ARS of the Land it lists but the
        # Gemeindeverzeichnis edition does not know (a territorial reform the edition
        # predates, e.g. Hanau kreisfrei since 2026) is queried too, so its entries are
        # counted (and quarantined with their own reason) instead of silently missing.
        try:
            land_paged(
                landing,
                source=dashboard.SOURCE,
                group=ARS_LIST_GROUP,
                fetch=lambda i: client.fetch_ars_page(i, size),
                page_info=dashboard.page_info,
                name=lambda p, i: f"ars_p{p}_{i:04d}.json",
            )
            api_only = _api_only_ars(read_ars_list(landing, drift=drift), settings.land, queried)
        except (SourceError, dashboard.DashboardFormatError) as exc:
            # The ARS list is unverified live and only widens the query set: its failure is
            # recorded, not fatal.
            ars_list_error = str(exc)[:300]
        jobs = [
            _data_job(landing, client, ars, above, size, endpoint)
            for ars, above in dashboard_queries(settings, [*queried, *api_only])
        ]
        _run_bounded(jobs, settings.http.concurrency)
    rows = _recorded_rows(landing, drift)
    parsed: tuple[pl.DataFrame, list[UnknownField]] | None = None
    if rows is None:
        own = DriftLog(dashboard.SOURCE)
        parsed = (_parse_dashboard(landing, own), own.fields())
        _note_fields(drift, parsed[1])
        rows = parsed[0].height
    if not landing.is_complete:
        paged_fallback = sorted(g for g, seal in landing.groups().items() if seal.get("fallback"))
        landing.complete(
            rows=rows,
            queries=len([g for g in landing.groups() if g.startswith("data/")]),
            page_size=size,
            endpoint=endpoint,
            paged_fallback=paged_fallback,
            api_only_ars=api_only,
            ars_list_error=ars_list_error,
            unknown_fields=drift.frame().to_dicts(),
        )
        if parsed is not None:  # the parse of exactly what the manifest now seals
            _keep_dashboard_read(landing, parsed)
    source_url = (
        client.export_url(settings.land_ars)
        if endpoint == "export"
        else client.data_url(settings.land_ars)
    )
    report = _report(landing, before, rows, source_url)
    return replace(report, unknown_fields=tuple(drift.fields()))


def _api_only_ars(listed: pl.DataFrame, land: str, queried: list[str]) -> list[str]:
    """Well-formed ARS of ``land`` in the API's ARS list that are not queried yet."""
    known = set(queried)
    found = {
        ars
        for ars in listed["ars"].to_list()
        if is_ars(ars) and ars.startswith(land) and ars not in known
    }
    return sorted(found)


def _data_job(
    landing: SnapshotLanding,
    client: dashboard.DashboardClient,
    ars: str,
    above: bool,
    size: int,
    endpoint: str = "paged",
) -> Callable[[], list[str]]:
    query_scope = "above" if above else "own"

    def paged(note: dict[str, object] | None = None) -> list[str]:
        return land_paged(
            landing,
            source=dashboard.SOURCE,
            group=_data_group(ars, above),
            fetch=lambda i: client.fetch_data_page(
                ars, i, size, include_above=above, include_below=False
            ),
            page_info=dashboard.page_info,
            name=lambda p, i: f"data_{ars}_{query_scope}_p{p}_{i:04d}.json",
            note=note,
        )

    if endpoint == "paged":
        return paged
    return lambda: _land_export(landing, client, ars, above, paged)


def _land_export(
    landing: SnapshotLanding,
    client: dashboard.DashboardClient,
    ars: str,
    above: bool,
    paged: Callable[[dict[str, object]], list[str]],
) -> list[str]:
    """One export answer as a sealed group of one entry ``export_{ars}_{own|above}.csv``
    (``.json`` when host A answers a JSON page). A 413, or a JSON page that is not the
    last one, pages the query through the JSON endpoint instead (noted in the seal)."""
    group = _data_group(ars, above)
    sealed = landing.sealed(group)
    if sealed is not None:
        entries = list(sealed["entries"])  # type: ignore[arg-type]
        report_progress(LandingProgress(dashboard.SOURCE, group, len(entries), len(entries)))
        return entries
    stem = f"export_{ars}_{'above' if above else 'own'}"
    name = next((n for n in (f"{stem}.csv", f"{stem}.json") if landing.entry(n)), None)
    if name is not None:  # resume an interrupted run
        entry = landing.entry(name)
        assert entry is not None
        body, url = landing.read(name), entry.url
        kind = dashboard.sniff(body, url, entry.headers.get("content-type"))
    else:
        try:
            fetched = client.fetch_export(ars, include_above=above, include_below=False)
        except dashboard.ExportTooLarge as exc:
            return paged({"endpoint": "paged", "fallback": f"export: {exc.reason}"[:300]})
        body, url = fetched.body, fetched.url
        kind = dashboard.sniff(body, url, fetched.headers.get("content-type"))
        name = f"{stem}.{kind}"
        landing.store(name, fetched, group=group, info={"endpoint": "export", "format": kind})
    if kind == "json":
        info = dashboard.page_info(body, url)
        if not info.is_final(0):
            reason = f"export answered JSON page 0 of {info.total_pages or '?'} ({name})"
            return paged({"endpoint": "paged", "fallback": reason})
    landing.seal(group, [name], endpoint="export", format=kind)
    report_progress(LandingProgress(dashboard.SOURCE, group, 1, 1))
    return [name]


def _run_bounded(jobs: list[Callable[[], list[str]]], concurrency: int) -> None:
    """Run all jobs; if any failed, raise the first error after the rest finished
    (so a resumed run has less left to do)."""
    errors: list[BaseException] = []
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for future in [pool.submit(job) for job in jobs]:
            exc = future.exception()
            if exc is not None:
                errors.append(exc)
    if errors:
        first = errors[0]
        if len(errors) > 1:
            first.add_note(f"{len(errors) - 1} further request(s) failed as well")
        raise first


# The last parses of complete Dashboard landings in this process. A complete landing is
# immutable, and its manifest changes whenever it is re-landed: the key. The leistungen and
# the verfuegbarkeit build read the same landing one after the other (in one process under
# the CLI's in-process executor), after the landing parsed it once to count its rows: both
# reads are that parse's frame, with the same unknown fields noted.
_DASHBOARD_READS: OrderedDict[tuple[str, int, int], tuple[pl.DataFrame, list[UnknownField]]] = (
    OrderedDict()
)
_DASHBOARD_READS_KEPT = 2
_DASHBOARD_READS_LOCK = threading.Lock()


def read_dashboard(landing: SnapshotLanding, *, drift: DriftLog | None = None) -> pl.DataFrame:
    """All landed Dashboard entries with their lineage (query, raw file, record index within
    the file); JSON pages and CSV exports alike. Unknown fields are noted in ``drift``."""
    key = _complete_landing_key(landing)
    with _DASHBOARD_READS_LOCK:
        kept = _DASHBOARD_READS.get(key) if key is not None else None
    if kept is None:
        own = DriftLog(dashboard.SOURCE)
        kept = (_parse_dashboard(landing, own), own.fields())
        _keep_dashboard_read(landing, kept)
    frame, fields = kept
    if drift is not None:
        _note_fields(drift, fields)
    return frame


def _keep_dashboard_read(
    landing: SnapshotLanding, parsed: tuple[pl.DataFrame, list[UnknownField]]
) -> None:
    key = _complete_landing_key(landing)
    if key is None:
        return
    with _DASHBOARD_READS_LOCK:
        _DASHBOARD_READS[key] = parsed
        while len(_DASHBOARD_READS) > _DASHBOARD_READS_KEPT:
            _DASHBOARD_READS.popitem(last=False)


def _note_fields(drift: DriftLog, fields: list[UnknownField]) -> None:
    for field in fields:
        drift.note(field.field, field.first_record, field.url, count=field.records)


def forget_dashboard_reads() -> None:
    """Empty the kept parses (a benchmark times the parse itself, never a kept copy)."""
    with _DASHBOARD_READS_LOCK:
        _DASHBOARD_READS.clear()


def _complete_landing_key(landing: SnapshotLanding) -> tuple[str, int, int] | None:
    """Identity of a complete landing's content (None while it is open): its directory and
    its manifest's modification time and size, which a re-landing changes."""
    try:
        stat = (landing.dir / MANIFEST).stat()
    except FileNotFoundError:
        return None
    return str(landing.dir.resolve()), stat.st_mtime_ns, stat.st_size


def _parse_dashboard(landing: SnapshotLanding, drift: DriftLog) -> pl.DataFrame:
    frames: list[pl.DataFrame] = []
    # Per file: the lineage columns except record_index (LINEAGE order).
    lineage: dict[str, list[object]] = {column: [] for column in list(LINEAGE)[:-1]}
    for group in sorted(landing.groups()):
        if not group.startswith("data/"):
            continue
        _, ars, query_scope = group.split("/")
        for entry, body in landing.group_bodies(group):
            answer = dashboard.parse_data_body(
                body, entry.url, entry.headers.get("content-type"), drift=drift
            )
            frames.append(answer.frame)
            for column, value in zip(
                lineage, (ars, query_scope == "above", entry.name, entry.sha256), strict=True
            ):
                lineage[column].append(value)
    if not frames:
        return pl.DataFrame(schema={**dashboard.SCHEMA, **LINEAGE})
    # The lineage of each file, repeated over its rows, in one pass over the concatenated
    # frame (a with_columns per file cost a fifth of the read for a Land of 2,000 queries).
    heights = np.array([frame.height for frame in frames], dtype=np.int64)
    starts = np.cumsum(heights) - heights
    record_index = np.arange(int(heights.sum()), dtype=np.int64) - np.repeat(starts, heights)
    file_of_row = np.repeat(np.arange(len(frames)), heights)
    columns = [
        pl.Series(column, values, LINEAGE[column]).gather(file_of_row)
        for column, values in lineage.items()
    ]
    return pl.concat(frames, how="vertical").hstack(
        [*columns, pl.Series("record_index", record_index, dtype=pl.Int32)]
    )


LINEAGE = {
    "query_ars": pl.String,
    "include_above": pl.Boolean,
    "raw_file": pl.String,
    "raw_sha256": pl.String,
    "record_index": pl.Int32,
}


def read_ars_list(landing: SnapshotLanding, *, drift: DriftLog | None = None) -> pl.DataFrame:
    frames = [
        dashboard.parse_ars_page(body, entry.url, drift=drift)[0]
        for entry, body in landing.group_bodies(ARS_LIST_GROUP)
    ]
    return pl.concat(frames) if frames else pl.DataFrame(schema=dashboard.ARS_SCHEMA)


# -- PVOG Suchdienst ----------------------------------------------------------------------
def pvog_ars(settings: Settings) -> list[str]:
    if settings.pvog_ars:
        return list(settings.pvog_ars)
    if settings.mode == "sample":
        return [BUND_ARS]  # only the real Bund export is embedded
    pilots = [ars for ars in PILOT_ARS if ars.startswith(settings.land)]
    return [BUND_ARS, settings.land_ars, *pilots]


def land_pvog(
    settings: Settings,
    snapshot: date,
    *,
    session: requests.Session | None = None,
    force: bool = False,
    drift: DriftLog | None = None,
) -> LandingReport:
    """Land the CSV export of every ARS in scope; unknown columns are noted in ``drift``."""
    settings = effective_settings(settings)
    landing = _landing(settings, pvog.SOURCE, snapshot, force)
    before = len(landing.entries())
    client = pvog.PvogClient.create(
        settings.pvog_url,
        settings.http,
        session or open_session(settings, snapshot),
        settings.pvog_client_id,
    )
    for ars in pvog_ars(settings):
        group = f"csv/{validate_ars(ars, what='PVOG ARS')}"
        if landing.sealed(group) is None:
            name = f"servicedescriptions_{ars}.csv"
            if landing.entry(name) is None:
                landing.store(name, client.fetch_csv(ars), group=group)
            landing.seal(group, [name])
    drift = drift if drift is not None else DriftLog(pvog.SOURCE)
    rows = _recorded_rows(landing, drift)
    if rows is None:
        rows = read_pvog(landing, drift=drift).height
    if not landing.is_complete:
        landing.complete(rows=rows, ars=pvog_ars(settings), unknown_fields=drift.frame().to_dicts())
    report = _report(landing, before, rows, client.csv_url())
    return replace(report, unknown_fields=tuple(drift.fields()))


def read_pvog(landing: SnapshotLanding, *, drift: DriftLog | None = None) -> pl.DataFrame:
    frames = []
    for group in sorted(landing.groups()):
        for entry, body in landing.group_bodies(group):
            try:
                frame = pvog.parse_csv(body, entry.url, drift=drift)
            except pvog.PvogFormatError as exc:
                raise SourceError(pvog.SOURCE, entry.url, str(exc)) from exc
            frames.append(
                frame.with_columns(
                    pl.lit(group.split("/", 1)[1]).alias("query_ars"),
                    pl.lit(entry.name).alias("raw_file"),
                    pl.lit(entry.sha256).alias("raw_sha256"),
                )
            )
    return pl.concat(frames) if frames else pl.DataFrame(schema=pvog.SCHEMA)


# -- FIM Portal ---------------------------------------------------------------------------
FIM_GROUP = "leistung-steckbriefe"


def land_fim(
    settings: Settings,
    snapshot: date,
    *,
    session: requests.Session | None = None,
    force: bool = False,
    drift: DriftLog | None = None,
) -> LandingReport:
    """Page through ``OZG_FIM_PATH`` with offset/limit; unknown fields are noted in ``drift``."""
    settings = effective_settings(settings)
    landing = _landing(settings, fim.SOURCE, snapshot, force)
    before = len(landing.entries())
    client = fim.FimClient.create(
        settings.fim_url,
        settings.http,
        session or open_session(settings, snapshot),
        settings.fim_path,
    )
    limit = min(settings.page_size, fim.MAX_LIMIT)
    if not landing.is_complete:
        land_paged(
            landing,
            source=fim.SOURCE,
            group=FIM_GROUP,
            fetch=lambda i: client.fetch_page(i * limit, limit),
            page_info=fim.page_info,
            name=lambda p, i: f"steckbriefe_p{p}_{i:04d}.json",
        )
    drift = drift if drift is not None else DriftLog(fim.SOURCE)
    rows = _recorded_rows(landing, drift)
    if rows is None:
        rows = read_fim(landing, drift=drift).height
    if not landing.is_complete:
        # Items landed against the announced total: an empty page ends paging early.
        items = sum(
            fim.page_info(body, entry.url).count for entry, body in landing.group_bodies(FIM_GROUP)
        )
        landing.complete(
            rows=rows,
            limit=limit,
            path=client.path,
            items=items,
            total_count=landing.sealed(FIM_GROUP)["total"],  # type: ignore[index]
            unknown_fields=drift.frame().to_dicts(),
        )
    report = _report(landing, before, rows, client.url())
    return replace(report, unknown_fields=tuple(drift.fields()))


def read_fim(landing: SnapshotLanding, *, drift: DriftLog | None = None) -> pl.DataFrame:
    frames = [
        fim.parse_page(body, entry.url, drift=drift).with_columns(
            pl.lit(entry.name).alias("raw_file"), pl.lit(entry.sha256).alias("raw_sha256")
        )
        for entry, body in landing.group_bodies(FIM_GROUP)
    ]
    return pl.concat(frames) if frames else pl.DataFrame(schema=fim.SCHEMA)
