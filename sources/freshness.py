"""Cheap probes for new upstream data, used by the scheduling sensor.

* Dashboard API: the Land's own entries carry ``datenstand_pvog_import`` (host B; host A
  may have none), and their number serves as a second change signal. With the ``export``
  endpoint the Land's own export is read (a 413 falls back to one JSON page of size 1),
  with ``paged`` one JSON page of size 1 (its ``totalElements``).
* Destatis GV100AD: the ETag / Last-Modified of the current edition's zip.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import requests

from sources.config import Settings
from sources.dashboard import DashboardClient, ExportTooLarge, parse_data_body, parse_envelope
from sources.destatis import DestatisClient
from sources.http import SourceError
from sources.ingest import effective_settings, open_session


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


def probe(
    settings: Settings, today: date, session: requests.Session | None = None
) -> UpstreamState:
    settings = effective_settings(settings)
    session = session or open_session(settings, today.replace(day=1))
    dashboard = DashboardClient.create(settings.dashboard_url, settings.http, session)
    datenstand, land_entries = _dashboard_state(dashboard, settings)
    destatis = DestatisClient.create(settings.destatis_url, settings.http, session)
    edition = destatis.http.session.head(
        destatis.edition_url(today),
        params={"__blob": "publicationFile"},
        timeout=(settings.http.connect_timeout, settings.http.read_timeout),
    )
    if edition.status_code != 200:
        # A broken probe must not look like "no version": the sensor would keep a
        # meaningless cursor. Fail loudly instead; the sensor tick shows the error.
        raise SourceError(
            "destatis_gv100ad", edition.url, f"HTTP {edition.status_code} on HEAD of the edition"
        )
    version = edition.headers.get("ETag") or edition.headers.get("Last-Modified")
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
