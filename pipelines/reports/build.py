"""Build the workshop reports from the published marts.

Layout under ``data/published/reports/`` (the latest Stichtag; an older Stichtag asked
for explicitly goes to ``reports/stichtag-YYYY-MM-DD/`` so two Stichtage never mix):

* ``steckbrief-<ARS>.html`` – one per pilot Kommune, or per ARS asked for;
* ``pilotvergleich.html`` – the pilots side by side;
* ``index.html`` – all Kommunen, sortable and filterable, linking existing Steckbriefe,
  and the maps (``karten.py``, drawn by ``maps.py`` from the boundaries in ``geo/``);
* ``treiber.html`` – the roll-out drivers: time ratios, Kaplan–Meier curves, the Kommunen
  slower than their profile, the effect maps (``treiber.py``, docs/metrics.md §6.16);
* ``methode.html`` – method and metric dictionary (linked from every page);
* ``ozg-workshop-kennzahlen.xlsx`` – the workbook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from pipelines.publication.publish import published_dir
from pipelines.reports.data import PilotLandMissing, PublishedMarts, ReportError
from pipelines.reports.index import index_context
from pipelines.reports.leer import empty_cause
from pipelines.reports.methode import method_context
from pipelines.reports.pilotvergleich import comparison_context
from pipelines.reports.render import (
    COMPARISON,
    DRIVERS,
    INDEX,
    METHOD,
    WORKBOOK,
    PageFacts,
    environment,
    now_label,
    render,
    steckbrief_file,
)
from pipelines.reports.steckbrief import steckbrief_context
from pipelines.reports.treiber import treiber_context
from pipelines.reports.workbook import write_workbook
from sources.config import PILOT_ARS
from sources.files import atomic_write_text
from sources.identifiers import is_ars


@dataclass
class ReportResult:
    out_dir: Path
    snapshot: date
    sample: bool
    steckbriefe: list[Path] = field(default_factory=list)
    comparison: Path | None = None
    index: Path | None = None
    method: Path | None = None
    drivers: Path | None = None
    workbook: Path | None = None
    # Set when the Kommune marts had no rows: the pages explain why (German, one line).
    empty_reason: str | None = None

    def files(self) -> list[Path]:
        extra = [self.comparison, self.index, self.drivers, self.method, self.workbook]
        return [*self.steckbriefe, *(p for p in extra if p is not None)]


def reports_root(data_dir: Path) -> Path:
    return published_dir(Path(data_dir)) / "reports"


def _published_label(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).strftime("%d.%m.%Y, %H:%M UTC")
    except ValueError:
        return value


def build_reports(
    data_dir: Path, *, ars: Sequence[str] | None = None, snapshot: date | None = None
) -> ReportResult:
    """Without ``ars``: the full set (pilot Steckbriefe, comparison, index, drivers page,
    method page, workbook). With ``ars``: those Steckbriefe, plus the index, drivers and
    method page refreshed so the new Steckbriefe are linked."""
    requested = [a.strip() for a in ars or []]
    bad = [repr(a)[:40] for a in requested if not is_ars(a)]
    if bad:
        raise ReportError(f"ungültige ARS (12 Ziffern erwartet): {', '.join(bad)}")
    with PublishedMarts(data_dir) as marts:
        if not marts.snapshots() or (
            snapshot is not None
            and snapshot not in marts.snapshots()
            and snapshot in marts.delivered_snapshots()
        ):
            return _build_empty_reports(marts, data_dir, snapshot)
        chosen = marts.resolve_snapshot(snapshot)
        latest = marts.snapshots()[-1]
        root = reports_root(data_dir)
        out_dir = root if chosen == latest else root / f"stichtag-{chosen.isoformat()}"
        known = set(marts.kommunen(chosen))
        targets = requested or [a for a in PILOT_ARS if a in known]
        unknown = [a for a in targets if a not in known]
        if unknown:
            raise ReportError(
                f"keine Kommune mit ARS {', '.join(unknown)} am Stichtag {chosen.isoformat()}"
            )
        versions = marts.rows(
            "select distinct definition_version from marts.mart_peer_vergleich "
            "where snapshot_date = ? and land = ? order by 1",
            [chosen, marts.land],
        )
        facts = _facts(marts, chosen, [r["definition_version"] for r in versions])
        env = environment()
        result = ReportResult(out_dir=out_dir, snapshot=chosen, sample=facts.sample)
        for code in targets:
            html = render(
                env,
                "steckbrief.html.j2",
                facts,
                page="steckbrief",
                **steckbrief_context(marts, code, chosen),
            )
            result.steckbriefe.append(atomic_write_text(out_dir / steckbrief_file(code), html))
        if not requested:
            pilot_order = list(PILOT_ARS)
            html = render(
                env,
                "pilotvergleich.html.j2",
                facts,
                page="vergleich",
                **comparison_context(marts, chosen, pilot_order),
            )
            result.comparison = atomic_write_text(out_dir / COMPARISON, html)
            result.workbook = write_workbook(
                marts,
                out_dir / WORKBOOK,
                snapshot=chosen,
                pilots=pilot_order,
                sample=facts.sample,
                published=facts.published_at,
            )
        html = render(
            env, "methode.html.j2", facts, page="methode", **method_context(marts, chosen)
        )
        result.method = atomic_write_text(out_dir / METHOD, html)
        html = render(
            env, "treiber.html.j2", facts, page="treiber", **treiber_context(marts, chosen, out_dir)
        )
        result.drivers = atomic_write_text(out_dir / DRIVERS, html)
        html = render(
            env, "index.html.j2", facts, page="index", **index_context(marts, chosen, out_dir)
        )
        result.index = atomic_write_text(out_dir / INDEX, html)
    return result


def _facts(marts: PublishedMarts, snapshot: date, versions: list[str]) -> PageFacts:
    return PageFacts(
        snapshot=snapshot,
        sample=marts.is_sample(),
        published_at=_published_label(marts.published_at),
        mode=marts.mode,
        definition_version=", ".join(versions) or "–",
        generated=now_label(),
    )


def _build_empty_reports(
    marts: PublishedMarts, data_dir: Path, snapshot: date | None
) -> ReportResult:
    """Every page the facilitators expect, each explaining why there are no figures."""
    delivered = marts.delivered_snapshots()
    if not delivered:
        raise PilotLandMissing(
            f"die veröffentlichten Marts enthalten keinen Stichtag für Land {marts.land}"
        )
    chosen = snapshot if snapshot in delivered else delivered[-1]
    root = reports_root(data_dir)
    out_dir = root if chosen == delivered[-1] else root / f"stichtag-{chosen.isoformat()}"
    versions = marts.rows(
        "select distinct definition_version from marts.mart_datenqualitaet "
        "where snapshot_date = ? and land = ? order by 1",
        [chosen, marts.land],
    )
    facts = _facts(marts, chosen, [r["definition_version"] for r in versions])
    cause = empty_cause(marts, chosen)
    env = environment()
    result = ReportResult(
        out_dir=out_dir, snapshot=chosen, sample=facts.sample, empty_reason=cause.summary
    )
    pages = [
        (INDEX, "index", "Alle Kommunen"),
        (COMPARISON, "vergleich", "Pilotvergleich"),
        (DRIVERS, "treiber", "Roll-out-Treiber"),
        *(
            (steckbrief_file(code), "steckbrief", f"Steckbrief {name}")
            for code, name in PILOT_ARS.items()
        ),
    ]
    for file_name, page, title in pages:
        html = render(env, "leer.html.j2", facts, page=page, title=title, cause=cause)
        written = atomic_write_text(out_dir / file_name, html)
        if page == "index":
            result.index = written
        elif page == "vergleich":
            result.comparison = written
        elif page == "treiber":
            result.drivers = written
        else:
            result.steckbriefe.append(written)
    html = render(env, "methode.html.j2", facts, page="methode", **method_context(marts, chosen))
    result.method = atomic_write_text(out_dir / METHOD, html)
    result.workbook = write_workbook(
        marts,
        out_dir / WORKBOOK,
        snapshot=chosen,
        pilots=list(PILOT_ARS),
        sample=facts.sample,
        published=facts.published_at,
        notice=cause.summary,
    )
    return result
