"""Land one snapshot of each source in the raw zone: the plain functions behind the
Dagster raw assets (tests call them directly).

Each ``land_*`` function is idempotent: a complete snapshot is reused, an
interrupted one resumed, and ``force=True`` re-lands it (the old copy is kept aside).
Parsing every landed body once here validates the wire format early, so a schema
drift fails the ingest with the source, record and column named.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import polars as pl
import requests

from sources import dashboard, destatis, fim, pvog
from sources.config import BUND_ARS, PILOT_ARS, Settings
from sources.http import SourceError
from sources.landing import SnapshotLanding, previous_complete
from sources.paging import land_paged


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


# -- Destatis GV100AD ----------------------------------------------------------------------
GV100AD_GROUP = "gv100ad"


def land_destatis(
    settings: Settings,
    snapshot: date,
    *,
    session: requests.Session | None = None,
    force: bool = False,
) -> LandingReport:
    settings = effective_settings(settings)
    landing = _landing(settings, destatis.SOURCE, snapshot, force)
    before = len(landing.entries())
    client = destatis.DestatisClient.create(
        settings.destatis_url, settings.http, session or open_session(settings, snapshot)
    )
    if landing.sealed(GV100AD_GROUP) is None:
        url = client.edition_url(snapshot)
        previous = previous_complete(
            settings.raw_root(destatis.SOURCE), destatis.SOURCE, snapshot.isoformat()
        )
        prior = None
        if previous is not None:
            prior = next((e for e in previous.entries() if e.url.startswith(url)), None)
        validators = None
        if prior is not None:
            validators = {
                "etag": prior.headers.get("etag", ""),
                "last-modified": prior.headers.get("last-modified", ""),
            }
        fetched = client.fetch_edition(snapshot, validators)
        name = Path(url).name
        if fetched.not_modified and previous and prior:
            # 304: the edition did not change; land the confirmed body, say where it came from.
            landing.store(
                name,
                fetched,
                group=GV100AD_GROUP,
                body=previous.read(prior.name),
                not_modified_from=previous.snapshot,
            )
        else:
            landing.store(name, fetched, group=GV100AD_GROUP)
        landing.seal(GV100AD_GROUP, [name])
    frame = read_gv100ad(landing)
    if not landing.is_complete:
        landing.complete(records=frame.height, gebietsstand=str(frame["gebietsstand"].max()))
    return _report(landing, before, frame.height, client.edition_url(snapshot))


def read_gv100ad(landing: SnapshotLanding) -> pl.DataFrame:
    ((entry, body),) = landing.group_bodies(GV100AD_GROUP)
    try:
        return destatis.parse_zip(body)
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
) -> LandingReport:
    settings = effective_settings(settings)
    landing = _landing(settings, dashboard.SOURCE, snapshot, force)
    before = len(landing.entries())
    client = dashboard.DashboardClient.create(
        settings.dashboard_url, settings.http, session or open_session(settings, snapshot)
    )
    size = settings.page_size
    if not landing.is_complete:
        jobs: list[Callable[[], list[str]]] = [
            lambda: land_paged(
                landing,
                source=dashboard.SOURCE,
                group=ARS_LIST_GROUP,
                fetch=lambda i: client.fetch_ars_page(i, size),
                page_info=dashboard.page_info,
                name=lambda p, i: f"ars_p{p}_{i:04d}.json",
            )
        ]
        for ars, above in dashboard_queries(settings, ars_list):
            jobs.append(_data_job(landing, client, ars, above, size))
        _run_bounded(jobs, settings.http.concurrency)
    frame = read_dashboard(landing)
    if not landing.is_complete:
        landing.complete(rows=frame.height, queries=len(landing.groups()) - 1, page_size=size)
    return _report(landing, before, frame.height, client.data_url(settings.land_ars))


def _data_job(
    landing: SnapshotLanding, client: dashboard.DashboardClient, ars: str, above: bool, size: int
) -> Callable[[], list[str]]:
    perspective = "above" if above else "own"
    return lambda: land_paged(
        landing,
        source=dashboard.SOURCE,
        group=_data_group(ars, above),
        fetch=lambda i: client.fetch_data_page(
            ars, i, size, include_above=above, include_below=False
        ),
        page_info=dashboard.page_info,
        name=lambda p, i: f"data_{ars}_{perspective}_p{p}_{i:04d}.json",
    )


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


def read_dashboard(landing: SnapshotLanding) -> pl.DataFrame:
    """All landed Dashboard entries with their lineage (query, raw file, record index)."""
    frames = []
    for group in sorted(landing.groups()):
        if not group.startswith("data/"):
            continue
        _, ars, perspective = group.split("/")
        for entry, body in landing.group_bodies(group):
            frame, _ = dashboard.parse_data_page(body, entry.url)
            frames.append(
                frame.with_columns(
                    pl.lit(ars).alias("query_ars"),
                    pl.lit(perspective == "above").alias("include_above"),
                    pl.lit(entry.name).alias("raw_file"),
                    pl.lit(entry.sha256).alias("raw_sha256"),
                    pl.int_range(pl.len(), dtype=pl.Int32).alias("record_index"),
                )
            )
    if not frames:
        return pl.DataFrame(schema={**dashboard.SCHEMA, **LINEAGE})
    return pl.concat(frames, how="vertical")


LINEAGE = {
    "query_ars": pl.String,
    "include_above": pl.Boolean,
    "raw_file": pl.String,
    "raw_sha256": pl.String,
    "record_index": pl.Int32,
}


def read_ars_list(landing: SnapshotLanding) -> pl.DataFrame:
    frames = [
        dashboard.parse_ars_page(body, entry.url)[0]
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
) -> LandingReport:
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
        group = f"csv/{ars}"
        if landing.sealed(group) is None:
            name = f"servicedescriptions_{ars}.csv"
            if landing.entry(name) is None:
                landing.store(name, client.fetch_csv(ars), group=group)
            landing.seal(group, [name])
    frame = read_pvog(landing)
    if not landing.is_complete:
        landing.complete(rows=frame.height, ars=pvog_ars(settings))
    return _report(landing, before, frame.height, client.csv_url())


def read_pvog(landing: SnapshotLanding) -> pl.DataFrame:
    frames = []
    for group in sorted(landing.groups()):
        for entry, body in landing.group_bodies(group):
            try:
                frame = pvog.parse_csv(body, entry.url)
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
) -> LandingReport:
    settings = effective_settings(settings)
    landing = _landing(settings, fim.SOURCE, snapshot, force)
    before = len(landing.entries())
    client = fim.FimClient.create(
        settings.fim_url, settings.http, session or open_session(settings, snapshot)
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
    frame = read_fim(landing)
    if not landing.is_complete:
        landing.complete(rows=frame.height, limit=limit)
    return _report(landing, before, frame.height, client.url())


def read_fim(landing: SnapshotLanding) -> pl.DataFrame:
    frames = [
        fim.parse_page(body, entry.url).with_columns(
            pl.lit(entry.name).alias("raw_file"), pl.lit(entry.sha256).alias("raw_sha256")
        )
        for entry, body in landing.group_bodies(FIM_GROUP)
    ]
    return pl.concat(frames) if frames else pl.DataFrame(schema=fim.SCHEMA)
