"""Paging into the raw landing zone, shared by the paged sources.

Rules (``docs/sources.md`` §1d): stop on ``last == true`` or when the
next page index reaches ``totalPages``; never rely on an empty page alone. If the
advertised total changes between pages the upstream data moved under us: the pass
is abandoned (its pages stay in the landing zone) and paging restarts from page 0,
at most ``MAX_RESTARTS`` times.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sources.http import Fetched, SourceError
from sources.landing import SnapshotLanding

MAX_RESTARTS = 2
MAX_PAGES = 100_000  # a runaway guard, far above any real catalogue

# Landing progress for a display (``ozg run``, ``pipelines/progress.py``): DEBUG records on
# this logger carrying a ``LandingProgress`` as ``record.landing``. Plain logging keeps
# ``sources`` free of the display and of Dagster; with no handler enabled it costs nothing.
PROGRESS_LOGGER = logging.getLogger("sources.progress")


@dataclass(frozen=True)
class LandingProgress:
    """``pages`` of query ``group`` are in the landing, of ``total`` (from the first page's
    envelope; None while unknown). With ``group`` None: ``source`` will land ``queries``
    queries (groups) in this landing."""

    source: str
    group: str | None = None
    pages: int = 0
    total: int | None = None
    queries: int | None = None


def report_progress(progress: LandingProgress) -> None:
    if PROGRESS_LOGGER.isEnabledFor(logging.DEBUG):
        PROGRESS_LOGGER.debug(
            "%s %s: %d/%s",
            progress.source,
            progress.group,
            progress.pages,
            progress.total,
            extra={"landing": progress},
        )


@dataclass(frozen=True)
class PageInfo:
    number: int  # 0-based page index as reported (or derived from offset)
    count: int  # records on this page
    total_elements: int | None
    total_pages: int | None
    last: bool | None  # the explicit flag, when the envelope has one

    def is_final(self, index: int) -> bool:
        if self.last is True:
            return True
        if self.total_pages is not None:
            return index + 1 >= self.total_pages
        if self.total_elements is not None and self.count == 0:
            return True
        return self.last is None and self.count == 0


def land_paged(
    landing: SnapshotLanding,
    *,
    source: str,
    group: str,
    fetch: Callable[[int], Fetched],
    page_info: Callable[[bytes, str], PageInfo],
    name: Callable[[int, int], str],
    note: Mapping[str, object] | None = None,
) -> list[str]:
    """Land every page of one query as a sealed group; returns the entry names.

    ``fetch(index)`` gets one page; ``page_info(body, url)`` reads its envelope;
    ``name(pass_no, index)`` names the landed entry; ``note`` is kept in the seal (e.g. why
    a query was paged). A group sealed in an earlier (interrupted) run is returned as is;
    pages of an unsealed pass are reused.
    """
    sealed = landing.sealed(group)
    if sealed is not None:
        entries = list(sealed["entries"])  # type: ignore[arg-type]
        report_progress(LandingProgress(source, group, len(entries), len(entries)))
        return entries

    for pass_no in range(MAX_RESTARTS + 1):
        names: list[str] = []
        first_total: int | None = None
        first_size = 0
        moved = False
        index = 0
        while True:
            if index >= MAX_PAGES:
                raise SourceError(source, group, f"more than {MAX_PAGES} pages; aborting")
            entry_name = name(pass_no, index)
            existing = landing.entry(entry_name)
            if existing is not None:  # resume an interrupted run
                body = landing.read(entry_name)
                url = existing.url
            else:
                fetched = fetch(index)
                body, url = fetched.body, fetched.url
            info = page_info(body, url)
            if existing is None:
                landing.store(
                    entry_name,
                    fetched,
                    group=group,
                    info={"page": index, "count": info.count, "total": info.total_elements},
                )
            names.append(entry_name)
            if index == 0:
                first_total, first_size = info.total_elements, info.count
            elif info.total_elements != first_total:
                moved = True
                break
            report_progress(
                LandingProgress(source, group, len(names), _pages(info, index, first_size))
            )
            if info.is_final(index):
                break
            index += 1
        if not moved:
            landing.seal(
                group,
                names,
                passes=pass_no + 1,
                total=first_total,
                pages=len(names),
                **dict(note or {}),
            )
            return names
    raise SourceError(
        source,
        group,
        f"total changed between pages in {MAX_RESTARTS + 1} consecutive passes; "
        "the upstream data is changing too fast to page through consistently",
    )


def _pages(info: PageInfo, index: int, first_size: int) -> int | None:
    """How many pages the query has, for the progress display: the envelope's
    ``totalPages``, else the total elements over the first page's size (FIM)."""
    if info.is_final(index):
        return index + 1
    if info.total_pages is not None:
        return info.total_pages
    if info.total_elements is not None and first_size > 0:
        return max(index + 2, -(-info.total_elements // first_size))
    return None
