"""Cheap probes for new upstream data, used by the scheduling sensor.

* Dashboard API: the Land's own entries carry ``datenstand_pvog_import`` (host B; host A
  may have none), and their number serves as a second change signal. With the ``export``
  endpoint the Land's own export is read (a 413 falls back to one JSON page of size 1),
  with ``paged`` one JSON page of size 1 (its ``totalElements``).
* Destatis GV100AD: the ETag / Last-Modified of the current edition's zip (a HEAD).

Every request goes through the shared HTTP client (politeness, retries, redirect rules,
size cap), with short deadlines: Dagster cancels a sensor evaluation after 60 s, so all
requests of one evaluation share a budget of ``PROBE_BUDGET`` seconds.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from datetime import date

import requests

from sources.config import HttpSettings, Settings
from sources.dashboard import DashboardClient, ExportTooLarge, parse_data_body, parse_envelope
from sources.destatis import DestatisClient
from sources.ingest import effective_settings, open_session

# Dagster's sensor timeout is 60 s (DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS): half of it for all
# probes of one evaluation leaves room for starting up and building the run requests.
PROBE_BUDGET = 30.0
# One request, its retries included: a probe makes up to three (export, page fallback, HEAD).
PROBE_REQUEST_DEADLINE = 10.0
PROBE_MAX_ATTEMPTS = 3
PROBE_BACKOFF_MAX = 2.0  # a long Retry-After is not waited for; the next tick tries again


@dataclass(frozen=True)
class UpstreamState:
    datenstand: str | None  # datenstand_pvog_import of the Land's entries (host B)
    land_entries: int | None  # totalElements of the Land's own entries
    gv100ad_version: str | None  # ETag or Last-Modified of the GV100AD edition

    def key(self) -> str:
        """A stable identity of the upstream state (the sensor's run key)."""
        parts = [
            f"datenstand={self.datenstand}",
            f"eintraege={self.land_entries}",
            f"gv100ad={self.gv100ad_version}",
        ]
        return "|".join(parts)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def probe_http(http: HttpSettings, until: float) -> HttpSettings:
    """``http`` shortened for a probe: no request outlives ``PROBE_REQUEST_DEADLINE``, none
    starts or runs past ``until`` (an absolute ``time.monotonic()``)."""
    return replace(
        http,
        connect_timeout=min(http.connect_timeout, PROBE_REQUEST_DEADLINE),
        read_timeout=min(http.read_timeout, PROBE_REQUEST_DEADLINE),
        deadline=min(http.deadline, PROBE_REQUEST_DEADLINE),
        max_attempts=min(http.max_attempts, PROBE_MAX_ATTEMPTS),
        backoff_max=min(http.backoff_max, PROBE_BACKOFF_MAX),
        until=until if http.until is None else min(http.until, until),
    )


def probe(
    settings: Settings,
    today: date,
    session: requests.Session | None = None,
    *,
    until: float | None = None,
) -> UpstreamState:
    """The upstream state for ``settings.land``, within ``PROBE_BUDGET`` seconds from now or
    by ``until`` (a budget shared by several probes). A ``SourceError`` beyond it."""
    if until is None:
        until = time.monotonic() + PROBE_BUDGET
    settings = effective_settings(settings)
    settings = replace(settings, http=probe_http(settings.http, until))
    session = session or open_session(settings, today.replace(day=1))
    dashboard = DashboardClient.create(settings.dashboard_url, settings.http, session)
    datenstand, land_entries = _dashboard_state(dashboard, settings)
    destatis = DestatisClient.create(settings.destatis_url, settings.http, session)
    # Any status but 200 raises: a broken probe must not look like "no version" (the
    # sensor would keep a meaningless cursor); the sensor tick shows the error instead.
    edition = destatis.http.head(destatis.edition_url(today), params={"__blob": "publicationFile"})
    version = edition.headers.get("etag") or edition.headers.get("last-modified")
    return UpstreamState(datenstand, land_entries, version)


def _dashboard_state(client: DashboardClient, settings: Settings) -> tuple[str | None, int | None]:
    """(Datenstand of the Land's first own entry that has one, number of its own entries)."""
    ars = settings.land_ars
    if settings.dashboard_endpoint == "export":
        try:
            fetched = client.fetch_export(ars, include_above=False, include_below=False)
        except ExportTooLarge:
            pass  # page instead, as the landing does
        else:
            answer = parse_data_body(fetched.body, fetched.url, fetched.headers.get("content-type"))
            stand = answer.frame["datenstand_pvog_import"].drop_nulls()
            total = answer.info.total_elements if answer.info else answer.frame.height
            return (stand[0] if len(stand) else None), total
    fetched = client.fetch_data_page(ars, 0, 1, include_above=False, include_below=False)
    page = parse_envelope(fetched.body, fetched.url)
    datenstand = None
    if page.records and isinstance(page.records[0], dict):
        value = page.records[0].get("datenstand_pvog_import")
        datenstand = value if isinstance(value, str) else None
    return datenstand, page.info.total_elements
