"""Workshop reports: HTML Steckbriefe, pilot comparison, index, method page and workbook.

A copy of the suite's one-snapshot reference run (``one_snapshot_run`` in conftest.py) is
shared by every test in this module; the reports asset is part of that run. The workbook is
checked with openpyxl, the pages as text and in a real headless Chromium (Debian's ``chromium``
package, driven by Playwright with ``executable_path`` — no browser download). Without
``/usr/bin/chromium`` the browser tests skip, except under ``CI=true``, where they fail.

Screenshots go to ``data/test-artifacts/reports/`` (or ``$OZG_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from browser import chromium_context
from conftest import REFERENCE_SNAPSHOT, clean_env, copy_run
from openpyxl import load_workbook

from pipelines.reports.data import PILOT_LAND
from sources.config import PILOT_ARS

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = REFERENCE_SNAPSHOT
BANNER = "Beispieldaten – synthetisch, keine amtlichen Zahlen"
ARTIFACTS = Path(os.environ.get("OZG_TEST_ARTIFACTS") or ROOT / "data" / "test-artifacts") / (
    "reports"
)
NON_PILOT = "064120000000"  # Frankfurt am Main: a Steckbrief on request

pytestmark = pytest.mark.slow


def _ozg(args: list[str], data_dir: Path, timeout: int = 1200) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        cwd=ROOT,
        env=clean_env(data_dir),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def data_dir(one_snapshot_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # `ozg report` writes pages into it: a copy of the shared run.
    return copy_run(one_snapshot_run, tmp_path_factory.mktemp("reports_run") / "data")


@pytest.fixture(scope="module")
def reports(data_dir: Path) -> Path:
    return data_dir / "published" / "reports"


@pytest.fixture(scope="module")
def marts(data_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(data_dir / "published" / "ozg.duckdb"), read_only=True)
    yield connection
    connection.close()


def query(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def pct(share: float) -> str:
    """The German display of a share: 0.6057 -> '60,6 %'."""
    return f"{share * 100:.1f}".replace(".", ",") + " %"


def normalised(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def pilot_rows(con: duckdb.DuckDBPyConnection, perspektive: str) -> list[dict[str, Any]]:
    return query(
        con,
        "select * from marts.mart_pilotvergleich where snapshot_date = ? and perspektive = ?",
        date.fromisoformat(SNAPSHOT),
        perspektive,
    )


def html_pages(reports: Path) -> list[Path]:
    return sorted(reports.glob("*.html"))


# -- files and CLI ----------------------------------------------------------------------------


def test_the_reports_land_is_the_land_of_every_pilot() -> None:
    # The reports read the marts of PILOT_LAND only (the marts may hold several Länder).
    assert {ars[:2] for ars in PILOT_ARS} == {PILOT_LAND} == {"06"}


def test_ozg_run_writes_every_report(reports: Path) -> None:
    for ars in PILOT_ARS:
        assert (reports / f"steckbrief-{ars}.html").is_file(), ars
    for name in (
        "pilotvergleich.html",
        "index.html",
        "treiber.html",
        "methode.html",
        "ozg-workshop-kennzahlen.xlsx",
    ):
        assert (reports / name).is_file(), name


def test_ozg_report_renders_a_steckbrief_on_request(data_dir: Path, reports: Path) -> None:
    done = _ozg(["report", "--ars", NON_PILOT], data_dir, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"steckbrief-{NON_PILOT}.html" in done.stdout
    page = (reports / f"steckbrief-{NON_PILOT}.html").read_text(encoding="utf-8")
    assert "Frankfurt am Main" in page
    # The refreshed index links the new Steckbrief.
    assert f'href="steckbrief-{NON_PILOT}.html"' in (reports / "index.html").read_text("utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ars", "0641"], "ungültige ARS"),
        (["--ars", "069999999999"], "keine Kommune mit ARS 069999999999"),
        (["--snapshot", "2026-05-01"], "ist nicht veröffentlicht"),
    ],
)
def test_ozg_report_refuses_bad_requests(data_dir: Path, args: list[str], message: str) -> None:
    done = _ozg(["report", *args], data_dir, timeout=300)
    assert done.returncode == 1
    assert message in done.stderr


# -- content rules on every page ---------------------------------------------------------------

REMOTE = re.compile(
    r"""(?:\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|url\(\s*["']?\s*(?:https?:)?//|@import""",
    re.IGNORECASE,
)


# The source note BKG's licence asks for under every map links BKG and the licence
# (pipelines/reports/maps.py): the only outbound links a page carries. A link loads nothing.
ATTRIBUTION_LINKS = ("http://www.bkg.bund.de", "https://www.govdata.de/dl-de/by-2-0")


def without_attribution_links(text: str) -> str:
    for url in ATTRIBUTION_LINKS:
        text = text.replace(f'<a href="{url}">', "<a>")
    return text


def test_every_page_has_banner_method_link_and_no_remote_resource(reports: Path) -> None:
    pages = html_pages(reports)
    assert len(pages) >= 9
    for page in pages:
        text = without_attribution_links(page.read_text(encoding="utf-8"))
        assert BANNER in text, page.name
        assert 'href="methode.html"' in text, page.name
        assert 'href="treiber.html"' in text, page.name  # the navigation
        assert not REMOTE.search(text), (page.name, REMOTE.search(text))
        assert "http://" not in text and "https://" not in text, page.name
        assert '<html lang="de">' in text


def test_charts_carry_title_description_and_a_data_table(reports: Path) -> None:
    for page in [reports / f"steckbrief-{a}.html" for a in PILOT_ARS] + [
        reports / "pilotvergleich.html"
    ]:
        text = page.read_text(encoding="utf-8")
        charts = re.findall(r"<svg class=\"(?:chart|karte)\"[^>]*>", text)
        assert charts, page.name
        for svg in charts:
            assert 'role="img"' in svg and "aria-labelledby=" in svg
        assert text.count("<desc id=") == len(charts)
        assert "Daten zur Grafik" in text or "Daten zu den Verlaufsgrafiken" in text
        maps = [svg for svg in charts if 'class="karte"' in svg]
        assert text.count("<summary>Tabelle zur Karte") == len(maps)
        assert text.count("GeoBasis-DE / BKG</a>") == len(maps)


# -- workbook ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workbook(reports: Path):  # type: ignore[no-untyped-def]
    wb = load_workbook(reports / "ozg-workshop-kennzahlen.xlsx")
    yield wb
    wb.close()


def sheet_records(ws) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    rows = ws.iter_rows(values_only=True)
    headers = next(rows)
    return [dict(zip(headers, row, strict=True)) for row in rows]


def test_workbook_has_one_sheet_per_topic_and_a_dictionary(workbook) -> None:  # type: ignore[no-untyped-def]
    assert workbook.sheetnames == [
        "Hinweise",
        "Pilotvergleich",
        "Verfügbarkeit",
        "Vergleichsgruppen",
        "Prioritätenkorb",
        "Anschlusslücken",
        "Roll-out Piloten",
        "Diffusion",
        "Roll-out-Treiber",
        "Roll-out Kommunen-Effekt",
        "Datenqualität",
        "Abgleich Bürgersicht",
        "Metrikverzeichnis",
    ]
    assert workbook["Hinweise"]["A2"].value == BANNER
    facts = {row[0]: row[1] for row in workbook["Hinweise"].iter_rows(values_only=True)}
    assert str(facts["Land"]).startswith("06 (Hessen)")
    for ws in workbook.worksheets[1:]:
        assert ws.freeze_panes == "A2", ws.title
        headers = [c.value for c in ws[1]]
        # German headers, not the mart's snake_case column names
        assert all(h and not re.fullmatch(r"[a-z0-9_]+", h) for h in headers), (ws.title, headers)
    headers = [c.value for c in workbook["Pilotvergleich"][1]]
    for expected in (
        "Stichtag",
        "Name",
        "Online-Quote",
        "Median Vergleichsgruppe",
        "Hessen-Median",
    ):
        assert expected in headers


def test_workbook_number_formats(workbook) -> None:  # type: ignore[no-untyped-def]
    ws = workbook["Pilotvergleich"]
    headers = [c.value for c in ws[1]]
    second = {h: ws.cell(row=2, column=i + 1) for i, h in enumerate(headers)}
    assert second["Online-Quote"].number_format == "0.0%"
    assert second["Median Vergleichsgruppe"].number_format == "0.0%"
    assert second["Abstand zum Median der Vergleichsgruppe"].number_format.startswith("+0.0%")
    assert second["Anwendbare Leistungen"].number_format == "#,##0"
    assert second["Stichtag"].number_format == "DD.MM.YYYY"


def test_workbook_figures_equal_the_marts(workbook, marts) -> None:  # type: ignore[no-untyped-def]
    records = sheet_records(workbook["Pilotvergleich"])
    expected = query(marts, "select * from marts.mart_pilotvergleich")
    assert len(records) == len(expected) > 0
    by_key = {(r["ARS"], r["Perspektive"], r["Stichtag"].date()): r for r in records}
    for row in expected:
        got = by_key[(row["ars"], row["perspektive"], row["snapshot_date"])]
        assert got["Leistungen online"] == row["n_online"]
        assert got["Anwendbare Leistungen"] == row["n_anwendbar"]
        assert got["Online-Quote"] == pytest.approx(row["quote_online"])
        assert got["Median Vergleichsgruppe"] == pytest.approx(row["peer_median"])
        assert got["Hessen-Median"] == pytest.approx(row["land_median"])
        assert got["Anschlusslücken"] == row["n_luecken"]

    availability = sheet_records(workbook["Verfügbarkeit"])
    (count,) = marts.execute(
        "select count(*) from marts.mart_verfuegbarkeit_kommune where snapshot_date = ?",
        [date.fromisoformat(SNAPSHOT)],
    ).fetchone()
    assert len(availability) == count
    wiesbaden = next(
        r for r in availability if r["ARS"] == "064140000000" and r["Perspektive"] == "traeger"
    )
    (eigen,) = marts.execute(
        "select n_online_eigen from marts.mart_verfuegbarkeit_kommune "
        "where ars = '064140000000' and perspektive = 'traeger' and snapshot_date = ?",
        [date.fromisoformat(SNAPSHOT)],
    ).fetchone()
    assert wiesbaden["Online: eigene Einträge"] == eigen

    gaps = sheet_records(workbook["Anschlusslücken"])
    (n_gaps,) = marts.execute(
        "select count(*) from marts.mart_anschlussluecke where snapshot_date = ? and ars in ("
        + ",".join("?" * len(PILOT_ARS))
        + ")",
        [date.fromisoformat(SNAPSHOT), *PILOT_ARS],
    ).fetchone()
    assert len(gaps) == n_gaps

    dictionary = sheet_records(workbook["Metrikverzeichnis"])
    quote = next(
        r
        for r in dictionary
        if r["Blatt"] == "Pilotvergleich" and r["Spalte (Mart)"] == "quote_online"
    )
    assert quote["Überschrift"] == "Online-Quote"
    assert quote["Formel / Nenner"] == "n_online / n_anwendbar"
    assert quote["Einheit"] == "Anteil 0–1"


# -- roll-out drivers (docs/metrics.md §6.16) --------------------------------------------------
# This run has one Stichtag: no pair has its Land-wide first date inside the window, so the
# analysis marts are empty and every page must say why. The pages with estimates are checked
# on the full sample run (tests/integration/test_rollout_drivers.py).


def test_drivers_page_follows_the_analysis_marts(
    reports: Path, marts: duckdb.DuckDBPyConnection
) -> None:
    (n_drivers,) = marts.execute(
        "select count(*) from marts.mart_rollout_treiber where land = ?", [PILOT_LAND]
    ).fetchone()
    (n_effects,) = marts.execute(
        "select count(*) from marts.mart_rollout_kommune_effekt where land = ?", [PILOT_LAND]
    ).fetchone()
    assert n_drivers == n_effects == 0  # one Stichtag: nothing to estimate
    page = (reports / "treiber.html").read_text(encoding="utf-8")
    assert page.count('<g class="zeile"') == n_drivers
    assert 'data-zustand="keine-schaetzung"' in page
    text = normalised(re.sub(r"<[^>]+>", " ", page))
    assert "Noch keine Schätzung für Hessen" in text
    assert "Veröffentlicht ist 1 Stichtag" in text
    for caveat in ("Zusammenhang, keine Wirkung", "Zensierung", "Was die Daten nicht sehen"):
        assert caveat in text
    assert BANNER in text
    steckbrief = (reports / f"steckbrief-{MAP_GEMEINDE}.html").read_text(encoding="utf-8")
    assert 'id="eigener-effekt"' in steckbrief
    assert "Für Hessen liegt noch keine Schätzung vor" in steckbrief
    assert 'id="karte-effekt"' not in steckbrief
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert 'id="karten-effekt"' in index and 'id="karte-effekt-gemeinden"' not in index


def test_workbook_has_the_driver_sheets_with_german_headers(workbook) -> None:  # type: ignore[no-untyped-def]
    headers = [c.value for c in workbook["Roll-out-Treiber"][1]]
    for expected in ("Faktor", "Ausprägung", "Zeitverhältnis", "95-%-Intervall unten", "Hinweis"):
        assert expected in headers
    assert "Kommunen mit Paaren" in headers  # not the diffusion mart's "Kommunen (anwendbar)"
    effects = [c.value for c in workbook["Roll-out Kommunen-Effekt"][1]]
    assert {"ARS", "Zeitverhältnis", "Einordnung"} <= set(effects)
    assert workbook["Roll-out-Treiber"].oddHeader.right.text == BANNER


# -- in a real browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(reports: Path) -> Iterator[Any]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium_context() as context:
        yield context


class PageVisit:
    """One page opened in Chromium with its console errors and non-local requests."""

    def __init__(self, context: Any, path: Path) -> None:
        self.errors: list[str] = []
        self.remote: list[str] = []
        self.page = context.new_page()
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None
            ),
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

        def guard(route: Any) -> None:
            url = route.request.url
            if url.startswith(("file:", "data:", "about:")):
                route.continue_()
            else:  # the pages must work offline
                self.remote.append(url)
                route.abort()

        self.page.route("**/*", guard)
        self.page.goto(path.as_uri(), wait_until="load")

    def screenshot(self, name: str) -> Path:
        target = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(target), full_page=True)
        return target

    def text(self, selector: str) -> str:
        return normalised(self.page.inner_text(selector))

    def close(self) -> None:
        self.page.close()


def test_pages_open_without_console_errors_or_remote_requests(
    browser: Any, reports: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shots = []
    assert "treiber.html" in {p.name for p in html_pages(reports)}
    for path in html_pages(reports):
        visit = PageVisit(browser, path)
        try:
            assert visit.errors == [], (path.name, visit.errors)
            assert visit.remote == [], (path.name, visit.remote)
            assert BANNER in visit.text("#beispieldaten")
            assert visit.page.locator('a[href="methode.html"]').count() >= 1
            shots.append(visit.screenshot(path.stem))
        finally:
            visit.close()
    with capsys.disabled():
        print("\nscreenshots:\n" + "\n".join(f"  {p}" for p in shots))
    assert all(p.stat().st_size > 10_000 for p in shots)


def test_pilot_steckbrief_headline_numbers_equal_the_marts(
    browser: Any, reports: Path, marts: duckdb.DuckDBPyConnection
) -> None:
    rows = pilot_rows(marts, "traeger") + pilot_rows(marts, "buerger")
    assert {r["ars"] for r in rows} == set(PILOT_ARS)
    for ars in PILOT_ARS:
        visit = PageVisit(browser, reports / f"steckbrief-{ars}.html")
        try:
            for row in (r for r in rows if r["ars"] == ars):
                key = f'[data-perspektive="{row["perspektive"]}"]'
                assert visit.text(f'[data-kennzahl="quote_online"]{key}') == pct(
                    row["quote_online"]
                )
                assert visit.text(f'[data-kennzahl="n_online"]{key}') == str(row["n_online"])
                assert visit.text(f'[data-kennzahl="n_anwendbar"]{key}') == str(row["n_anwendbar"])
                assert visit.text(f'[data-kennzahl="peer_median"]{key}') == pct(row["peer_median"])
                assert visit.text(f'[data-kennzahl="land_median"]{key}') == pct(row["land_median"])
                assert visit.text(f'[data-kennzahl="rang_peer"]{key}') == str(row["rang_peer"])
                assert visit.text('[data-kennzahl="n_luecken"]') == str(row["n_luecken"])
                assert visit.text('[data-kennzahl="quote_korb"]') == pct(row["quote_korb"])
            perspectives = {r["perspektive"] for r in rows if r["ars"] == ars}
            shown = visit.page.locator('[data-kennzahl="quote_online"]').count()
            assert shown == len(perspectives)  # Landkreise: Trägersicht only
        finally:
            visit.close()


def test_comparison_page_shows_the_mart_values(
    browser: Any, reports: Path, marts: duckdb.DuckDBPyConnection
) -> None:
    visit = PageVisit(browser, reports / "pilotvergleich.html")
    try:
        for perspektive in ("traeger", "buerger"):
            table = f'table.vergleich[data-perspektive="{perspektive}"]'
            for row in pilot_rows(marts, perspektive):
                tr = f'{table} tr[data-ars="{row["ars"]}"]'
                assert visit.text(f'{tr} [data-kennzahl="quote_online"]') == pct(
                    row["quote_online"]
                )
                assert visit.text(f'{tr} [data-kennzahl="peer_median"]') == pct(row["peer_median"])
                assert visit.text(f'{tr} [data-kennzahl="n_luecken"]') == str(row["n_luecken"])
        assert (
            visit.page.locator('table.vergleich[data-perspektive="traeger"] tbody tr').count() == 6
        )
    finally:
        visit.close()


def _column(visit: PageVisit, index: int) -> list[str]:
    return visit.page.eval_on_selector_all(
        "#kommunen tbody tr:not([hidden])",
        f"rows => rows.map(r => r.cells[{index}].dataset.sort)",
    )


def test_index_table_sorts_and_filters(
    browser: Any, reports: Path, marts: duckdb.DuckDBPyConnection
) -> None:
    snapshot = date.fromisoformat(SNAPSHOT)
    kommunen = query(
        marts,
        "select ars, name, kreis_name, quote_online from marts.mart_verfuegbarkeit_kommune "
        "where snapshot_date = ? and perspektive = 'traeger'",
        snapshot,
    )
    visit = PageVisit(browser, reports / "index.html")
    try:
        assert visit.page.locator("#kommunen tbody tr").count() == len(kommunen)
        header = visit.page.locator("#spalte-quote")
        index = header.evaluate("th => th.cellIndex")
        before = [float(v) for v in _column(visit, index)]
        assert before != sorted(before)  # pilots first, then by name
        header.locator("button").click()
        ascending = [float(v) for v in _column(visit, index)]
        assert ascending == sorted(ascending)
        assert header.get_attribute("aria-sort") == "ascending"
        assert ascending[0] == pytest.approx(min(k["quote_online"] for k in kommunen))
        header.locator("button").click()
        descending = [float(v) for v in _column(visit, index)]
        assert descending == sorted(ascending, reverse=True)
        assert header.get_attribute("aria-sort") == "descending"
        visit.screenshot("index-sortiert-nach-quote")

        visit.page.fill("#suche", "kassel")
        expected = [
            k for k in kommunen if "kassel" in f"{k['name']} {k['kreis_name']} {k['ars']}".lower()
        ]
        assert visit.page.locator("#kommunen tbody tr:not([hidden])").count() == len(expected)
        assert visit.text("#anzahl").startswith(f"{len(expected)} von {len(kommunen)}")
        visit.page.fill("#suche", "")
        visit.page.check("#nurpiloten")
        assert visit.page.locator("#kommunen tbody tr:not([hidden])").count() == len(PILOT_ARS)
        visit.screenshot("index-nur-piloten")
        assert visit.errors == []
    finally:
        visit.close()


# -- maps ----------------------------------------------------------------------------------------
MAP_GEMEINDE = "064360005005"  # Hattersheim am Main: the first kreisangehörige pilot Gemeinde
MAP_KREIS = "064400000000"  # Wetteraukreis: a pilot Landkreis


def _bound(text: str, default: float) -> float:
    return default if text == "" else float(text)


def legend_fill(visit: PageVisit, svg: str, value: float) -> str:
    """The colour of the legend class ``value`` falls into, computed here from the edges the
    rendered legend states (class = lower edge inclusive, upper edge exclusive)."""
    classes = visit.page.eval_on_selector_all(
        f"{svg} g.legende g[data-von]",
        "gs => gs.map(g => [g.dataset.von, g.dataset.bis,"
        " getComputedStyle(g.querySelector('rect')).fill, g.textContent])",
    )
    assert len(classes) >= 2
    for lower, upper, _, label in classes:  # the label states the edges it was built from
        for edge in (lower, upper):
            if edge:
                assert f"{float(edge) * 100:g}".replace(".", ",") in label, (edge, label)
    hits = [
        fill
        for lower, upper, fill, _ in classes
        if _bound(lower, -math.inf) <= value < _bound(upper, math.inf)
    ]
    assert len(hits) == 1, (value, classes)
    return hits[0]


@pytest.mark.parametrize(
    ("page", "figure", "ars", "perspektive", "layer", "areas"),
    [
        ("index.html", "karte-quote-gemeinden", MAP_GEMEINDE, "buerger", "gemeinden", 425),
        (
            f"steckbrief-{MAP_GEMEINDE}.html",
            "karte-quote",
            MAP_GEMEINDE,
            "buerger",
            "gemeinden",
            425,
        ),
        (f"steckbrief-{MAP_KREIS}.html", "karte-quote", MAP_KREIS, "traeger", "kreise", 26),
    ],
)
def test_maps_colour_a_kommune_by_its_mart_value(
    browser: Any,
    reports: Path,
    marts: duckdb.DuckDBPyConnection,
    page: str,
    figure: str,
    ars: str,
    perspektive: str,
    layer: str,
    areas: int,
) -> None:
    (row,) = query(
        marts,
        "select name, quote_online from marts.mart_peer_vergleich "
        "where snapshot_date = ? and ars = ? and perspektive = ?",
        date.fromisoformat(SNAPSHOT),
        ars,
        perspektive,
    )
    svg = f"#{figure} svg.karte"
    visit = PageVisit(browser, reports / page)
    try:
        assert visit.errors == [], visit.errors
        assert visit.page.locator(svg).get_attribute("data-ebene") == layer
        assert visit.page.locator(f"{svg} path[data-ars]").count() == areas
        path = visit.page.locator(f'{svg} path[data-ars="{ars}"]')
        assert float(path.get_attribute("data-wert")) == pytest.approx(row["quote_online"])
        fill = path.evaluate("p => getComputedStyle(p).fill")
        assert fill == legend_fill(visit, svg, row["quote_online"])
        assert normalised(path.locator("title").text_content()) == (
            f"{row['name']}: {pct(row['quote_online'])}"
        )
        # Highlighted (this Kommune, or on the index every pilot of the layer): drawn last,
        # with a thick outline.
        drawn = visit.page.eval_on_selector_all(
            f"{svg} path[data-ars]", "ps => ps.map(p => p.dataset.ars)"
        )
        outlined = visit.page.eval_on_selector_all(
            f"{svg} path.hervorgehoben", "ps => ps.map(p => p.dataset.ars)"
        )
        expected = [a for a in drawn if a in PILOT_ARS] if page == "index.html" else [ars]
        assert sorted(outlined) == sorted(expected) and ars in outlined
        assert drawn[-len(outlined) :] == outlined
        assert float(path.evaluate("p => parseFloat(getComputedStyle(p).strokeWidth)")) >= 4
        # The text alternative and the lists next to the map.
        assert visit.page.locator(f'#{figure} details tr[data-ars="{ars}"]').count() == 1
        assert visit.text(f'#{figure} [data-liste="ohne-geometrie"]').startswith("Ohne Geometrie")
        assert "GeoBasis-DE / BKG" in visit.text(f"#{figure} figcaption")
        box = visit.page.locator(svg).bounding_box()
        assert box is not None and box["width"] > 400 and box["height"] > 350
        visit.page.locator(f"#{figure}").screenshot(
            path=str(ARTIFACTS / f"karte-{Path(page).stem}.png")
        )
    finally:
        visit.close()


# --- empty Kommune marts -----------------------------------------------------------------
KOMMUNE_MARTS = (
    "mart_verfuegbarkeit_kommune",
    "mart_peer_vergleich",
    "mart_pilotvergleich",
    "mart_rollout_kommune",
    "mart_rollout_kommune_leistung",
    "mart_anschlussluecke",
    "mart_prioritaeten_kommune",
)


@pytest.fixture(scope="module")
def empty_publication(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published marts as real data without any competence rule make them: every
    Leistung "nicht zugeordnet", so no Kommune has an applicable Leistung and every Kommune
    mart is empty (a copy of the run's publication, edited with DuckDB)."""
    copy = tmp_path_factory.mktemp("empty_publication")
    (copy / "published").mkdir()
    database = copy / "published" / "ozg.duckdb"
    database.write_bytes((data_dir / "published" / "ozg.duckdb").read_bytes())
    with duckdb.connect(str(database)) as con:
        for mart in KOMMUNE_MARTS:
            con.execute(f"delete from marts.{mart}")
        con.execute("update marts.mart_zustaendigkeit_leistung set zugeordnet = false")
    return copy


def test_empty_kommune_marts_still_render_every_page_with_the_cause(
    empty_publication: Path,
) -> None:
    from pipelines.reports import build_reports

    result = build_reports(empty_publication)
    assert result.empty_reason is not None
    assert "competence_matrix.csv" in result.empty_reason
    assert "ohne Zuständigkeit" in result.empty_reason
    with duckdb.connect(str(empty_publication / "published" / "ozg.duckdb"), True) as con:
        (total,) = con.execute(
            "select count(distinct leika_key) from marts.mart_zustaendigkeit_leistung "
            "where land = ? and snapshot_date = ?",
            [PILOT_LAND, result.snapshot],
        ).fetchone()
    assert f"{total} Leistungen ohne Zuständigkeit" in result.empty_reason
    names = {p.name for p in result.files()}
    assert {"index.html", "pilotvergleich.html", "treiber.html", "methode.html"} <= names
    assert {f"steckbrief-{ars}.html" for ars in PILOT_ARS} <= names
    pages = ("index.html", "pilotvergleich.html", "treiber.html")
    for page in (*pages, *(f"steckbrief-{a}.html" for a in PILOT_ARS)):
        html = (result.out_dir / page).read_text(encoding="utf-8")
        assert "Keine Kennzahlen für diesen Stichtag" in html, page
        assert "dbt_project/seeds/competence_matrix.csv" in html, page
        assert BANNER in html, page
        assert 'id="nicht-zugeordnet"' in html, page
    workbook = load_workbook(result.workbook, read_only=True)
    overview = [c for row in workbook.worksheets[0].iter_rows(values_only=True) for c in row if c]
    assert any(str(c).startswith("Hinweis: ") for c in overview)


def test_ozg_report_on_empty_marts_exits_zero_and_names_the_cause(empty_publication: Path) -> None:
    done = _ozg(["report"], empty_publication)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Hinweis:" in done.stdout
    assert "competence_matrix.csv" in done.stdout


@pytest.fixture(scope="module")
def publication_without_pilot_land(
    data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A publication of a run over other Länder only: the run's marts without any row of
    the pilots' Land (a copy, edited with DuckDB)."""
    copy = tmp_path_factory.mktemp("without_pilot_land")
    (copy / "published").mkdir()
    database = copy / "published" / "ozg.duckdb"
    database.write_bytes((data_dir / "published" / "ozg.duckdb").read_bytes())
    with duckdb.connect(str(database)) as con:
        for (mart,) in con.execute(
            "select table_name from information_schema.columns "
            "where table_schema = 'marts' and column_name = 'land'"
        ).fetchall():
            con.execute(f"delete from marts.{mart} where land = ?", [PILOT_LAND])
    return copy


def test_a_publication_without_the_pilot_land_skips_the_reports_with_a_reason(
    publication_without_pilot_land: Path,
) -> None:
    from pipelines.defs.reports import published_reports
    from pipelines.reports import PilotLandMissing, build_reports
    from pipelines.resources import OzgSettings

    with pytest.raises(PilotLandMissing, match=f"keinen Stichtag für Land {PILOT_LAND}"):
        build_reports(publication_without_pilot_land)
    # The publish job's reports step does not fail the run: it says why there are none.
    result = published_reports(ozg=OzgSettings(data_dir=str(publication_without_pilot_land)))
    reason = result.metadata["empty_reason"]
    assert reason.startswith("keine Berichte erzeugt: ") and PILOT_LAND in reason, reason
    assert not (publication_without_pilot_land / "published" / "reports").exists()
    # `ozg report` on it fails with the same one-line reason.
    done = _ozg(["report"], publication_without_pilot_land)
    assert done.returncode != 0
    assert f"keinen Stichtag für Land {PILOT_LAND}" in done.stderr
