"""Excel workbook with the facilitator-relevant marts: one sheet per topic, German
headers, frozen header row, autofilter, number formats from the column units, and a
dictionary sheet mapping every header back to its mart column and definition."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pipelines.reports.data import SAMPLE_NOTE, PublishedMarts
from pipelines.reports.labels import header
from pipelines.warehouse import ColumnDefinition, mart_definitions
from sources.files import atomic_write_bytes
from sources.identifiers import relation

HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
HEADER_FONT = Font(bold=True, color="0B2F55")
TITLE_FONT = Font(bold=True, size=14, color="0B4F8A")
BANNER_FILL = PatternFill("solid", fgColor="FFF4CE")

FORMAT_PERCENT = "0.0%"
FORMAT_POINTS = "+0.0%;-0.0%;0.0%"
FORMAT_COUNT = "#,##0"
FORMAT_DATE = "DD.MM.YYYY"
FORMAT_DECIMAL = "0.00"


@dataclass(frozen=True)
class Sheet:
    title: str  # at most 31 characters (Excel)
    mart: str
    where: str  # SQL condition; $land, $snapshot and $pilots are bound
    order: str  # a total order: ties would shuffle rows between runs
    about: str  # German description for the overview sheet


SHEETS = (
    Sheet(
        "Pilotvergleich",
        "mart_pilotvergleich",
        "land = $land and snapshot_date <= $snapshot",
        "snapshot_date desc, perspektive desc, ars",
        "Die sechs Pilotkommunen mit Vergleichsgruppe und Hessen-Median, alle Stichtage bis "
        "zum Berichtsstichtag.",
    ),
    Sheet(
        "Verfügbarkeit",
        "mart_verfuegbarkeit_kommune",
        "land = $land and snapshot_date = $snapshot",
        "ist_pilot desc, name, ars, perspektive desc",
        "Alle Kommunen: anwendbare und Online-Leistungen, Online-Quote und Anbieter-Zerlegung.",
    ),
    Sheet(
        "Vergleichsgruppen",
        "mart_peer_vergleich",
        "land = $land and snapshot_date = $snapshot",
        "peer_gruppe, perspektive desc, rang_peer, ars",
        "Alle Kommunen im Vergleich mit ihrer Vergleichsgruppe und Hessen: Median, Rang, "
        "Perzentil, z-Wert.",
    ),
    Sheet(
        "Prioritätenkorb",
        "mart_prioritaeten_kommune",
        "land = $land and snapshot_date = $snapshot",
        "ist_pilot desc, name, ars, korb, position",
        "Status jedes Korb-Elements je Kommune.",
    ),
    Sheet(
        "Anschlusslücken",
        "mart_anschlussluecke",
        "land = $land and snapshot_date = $snapshot and list_contains($pilots, ars)",
        "name, rang",
        "Alle Anschlusslücken der Pilotkommunen: Peers und Kreis-Gemeinden mit der Leistung "
        "online, Lücke seit (alle Kommunen: Parquet/CSV-Export).",
    ),
    Sheet(
        "Roll-out Piloten",
        "mart_rollout_kommune_leistung",
        "land = $land and list_contains($pilots, ars)",
        "name, verzoegerung_tage desc, leika_name, leika_key",
        "Roll-out je Pilotkommune und Leistung über das ganze Beobachtungsfenster "
        "(alle Kommunen: Parquet/CSV-Export).",
    ),
    Sheet(
        "Diffusion",
        "mart_diffusion_leistung",
        "land = $land",
        "leika_name, leika_key",
        "Diffusionsgeschwindigkeit je Leistung in Hessen: Tage bis 50 % und 90 % der Kommunen.",
    ),
    Sheet(
        "Roll-out-Treiber",
        "mart_rollout_treiber",
        "land = $land",
        "faktor, ist_referenz desc, auspraegung",
        "Roll-out-Treiber: Zeitverhältnis je Faktor und Ausprägung mit 95-%-Intervall "
        "(Zusammenhang, keine Wirkung; „zu wenige Beobachtungen“ ohne Schätzwert; "
        "treiber.html).",
    ),
    Sheet(
        "Roll-out Kommunen-Effekt",
        "mart_rollout_kommune_effekt",
        "land = $land",
        "rang desc, ars",
        "Eigener Roll-out-Effekt je Kommune gegenüber ihrem Profil (Zeitverhältnis mit "
        "95-%-Intervall), die langsamste zuerst.",
    ),
    Sheet(
        "Datenqualität",
        "mart_datenqualitaet",
        "land = $land and snapshot_date = $snapshot",
        "tabelle",
        "Freigegebene Zeilen, Quarantäne und Alter des Datenstands je Tabelle.",
    ),
    Sheet(
        "Abgleich Bürgersicht",
        "mart_abgleich_buergersicht",
        "land = $land and snapshot_date = $snapshot",
        "name, ars",
        "Prüfung der Vererbungsannahme für die Bürgersicht (API gegen Rekonstruktion).",
    ),
)
DICTIONARY_SHEET = "Metrikverzeichnis"
OVERVIEW_SHEET = "Hinweise"


def number_format(definition: ColumnDefinition | None, value: Any) -> str | None:
    """Excel format from the column's documented unit (and the value's type)."""
    unit = definition.einheit if definition else ""
    if isinstance(value, bool) or value is None:
        return None
    if unit == "Anteil 0–1":
        return FORMAT_PERCENT
    if unit == "Prozentpunkte/100":
        return FORMAT_POINTS
    if isinstance(value, date):
        return FORMAT_DATE
    if isinstance(value, int):
        return FORMAT_COUNT
    if isinstance(value, float):
        return FORMAT_DECIMAL
    return None


def _header_cells(ws: Worksheet, titles: list[str]) -> list[WriteOnlyCell]:
    cells = []
    for title in titles:
        cell = WriteOnlyCell(ws, value=title)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cells.append(cell)
    return cells


def _prepare(
    ws: Worksheet, widths: list[int], n_rows: int, *, snapshot: date, sample: bool
) -> None:
    """Sheet settings a write-only sheet needs before its first row."""
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = max(9, min(width + 2, 48))
    ws.row_dimensions[1].height = 45
    ws.freeze_panes = "A2"
    if n_rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(widths))}{n_rows + 1}"
    ws.oddHeader.left.text = f"OZG-Verfügbarkeit Hessen · Stichtag {snapshot:%d.%m.%Y}"
    if sample:
        ws.oddHeader.right.text = SAMPLE_NOTE
    ws.oddFooter.right.text = "Seite &P von &N"
    ws.page_setup.orientation = "landscape"
    ws.print_title_rows = "1:1"


@dataclass
class SheetData:
    sheet: Sheet
    columns: list[str]
    rows: list[tuple[Any, ...]]


def _query(marts: PublishedMarts, sheet: Sheet, params: dict[str, Any]) -> SheetData:
    # ``where`` and ``order`` are SQL fragments of the SHEETS constants; values are $params.
    cursor = marts.con.execute(
        f"select * from {relation('marts', sheet.mart)} where {sheet.where} order by {sheet.order}",
        {k: v for k, v in params.items() if f"${k}" in sheet.where},
    )
    return SheetData(sheet, [d[0] for d in cursor.description], cursor.fetchall())


def _write_mart_sheet(wb: Workbook, data: SheetData, *, snapshot: date, sample: bool) -> None:
    definitions = mart_definitions().get(data.sheet.mart)
    col_defs = [definitions.columns.get(c) if definitions else None for c in data.columns]
    titles = [header(c, data.sheet.mart) for c in data.columns]
    widths = [len(t) // 2 + 4 for t in titles]  # headers wrap onto two lines
    for values in data.rows[:200]:
        for i, value in enumerate(values):
            if isinstance(value, str):
                widths[i] = max(widths[i], len(value))
            elif isinstance(value, date):
                widths[i] = max(widths[i], 10)
    ws = wb.create_sheet(data.sheet.title)
    _prepare(ws, widths, len(data.rows), snapshot=snapshot, sample=sample)
    ws.append(_header_cells(ws, titles))
    for values in data.rows:
        row: list[Any] = []
        for value, definition in zip(values, col_defs, strict=True):
            fmt = number_format(definition, value)
            if fmt:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = fmt
                row.append(cell)
            else:
                row.append(value)
        ws.append(row)


def _write_overview(
    wb: Workbook,
    *,
    land: str,
    snapshot: date,
    sample: bool,
    published_at: str | None,
    counts: dict[str, int],
    notice: str | None = None,
) -> None:
    ws = wb.create_sheet(OVERVIEW_SHEET)
    for letter, width in zip("ABCD", (24, 90, 32, 10), strict=True):
        ws.column_dimensions[letter].width = width
    title = WriteOnlyCell(ws, value="OZG-Verfügbarkeit Hessen – Kennzahlen für die Pilot-Workshops")
    title.font = TITLE_FONT
    ws.append([title])
    if sample:
        banner = WriteOnlyCell(ws, value=SAMPLE_NOTE)
        banner.font = Font(bold=True, color="3D2800")
        banner.fill = BANNER_FILL
        ws.append([banner])
    if notice:
        hint = WriteOnlyCell(ws, value=f"Hinweis: {notice}.")
        hint.font = Font(bold=True, color="A3122A")
        ws.append([hint])
    stichtag = WriteOnlyCell(ws, value=snapshot)
    stichtag.number_format = FORMAT_DATE
    stichtag.alignment = Alignment(horizontal="left")
    facts: list[tuple[str, Any]] = [
        ("Stichtag", stichtag),
        ("Veröffentlicht", published_at or "–"),
        ("Quelle", "veröffentlichte Marts: data/published/ozg.duckdb, Schema marts"),
        (
            "Land",
            f"{land} (Hessen): alle Blätter zeigen nur dieses Land, auch wenn die "
            "veröffentlichten Marts weitere Länder enthalten",
        ),
        ("Definitionen", f"Blatt „{DICTIONARY_SHEET}“ und methode.html"),
        (
            "Perspektive",
            "traeger = Trägersicht (Leistungen in eigener Zuständigkeit); "
            "buerger = Bürgersicht (was Einwohner bei Gemeinde und Kreis brauchen, nur Gemeinden)",
        ),
        ("Zahlenformat", "Anteile 0–1 als Prozent; Abstände in Prozentpunkten (+/−)"),
    ]
    for label, value in facts:
        bold = WriteOnlyCell(ws, value=label)
        bold.font = Font(bold=True)
        ws.append([bold, value])
    ws.append([])
    ws.append(_header_cells(ws, ["Blatt", "Inhalt", "Mart", "Zeilen"]))
    for sheet in SHEETS:
        about = WriteOnlyCell(ws, value=sheet.about)
        about.alignment = Alignment(wrap_text=True, vertical="top")
        count = WriteOnlyCell(ws, value=counts.get(sheet.title, 0))
        count.number_format = FORMAT_COUNT
        ws.append([sheet.title, about, sheet.mart, count])
    ws.append([DICTIONARY_SHEET, "Überschrift, Spalte, Bedeutung, Einheit und Formel je Blatt."])


def _write_dictionary(
    wb: Workbook, used: dict[str, tuple[str, list[str]]], *, snapshot: date, sample: bool
) -> None:
    ws = wb.create_sheet(DICTIONARY_SHEET)
    titles = ["Blatt", "Überschrift", "Spalte (Mart)", "Mart", "Bedeutung", "Einheit"]
    titles += ["Formel / Nenner", "Hinweis", "Begriff (EN)"]
    definitions = mart_definitions()
    rows = []
    for sheet_title, (mart, columns) in used.items():
        for name in columns:
            d = definitions[mart].columns.get(name) if mart in definitions else None
            rows.append(
                [sheet_title, header(name, mart), name, mart]
                + ([d.description, d.einheit, d.formel, d.hinweis, d.begriff_en] if d else [""] * 5)
            )
    _prepare(ws, [20, 30, 26, 28, 70, 14, 30, 40, 28], len(rows), snapshot=snapshot, sample=sample)
    ws.append(_header_cells(ws, titles))
    for values in rows:
        cells: list[Any] = values[:4]
        for value in values[4:]:
            cell = WriteOnlyCell(ws, value=value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cells.append(cell)
        ws.append(cells)


def write_workbook(
    marts: PublishedMarts,
    path: Path,
    *,
    snapshot: date,
    pilots: list[str],
    sample: bool,
    published: str | None = None,
    notice: str | None = None,
) -> Path:
    """``notice``: a German explanation shown first on the overview sheet (e.g. why the
    Kommune sheets are empty)."""
    params: dict[str, Any] = {"land": marts.land, "snapshot": snapshot, "pilots": pilots}
    sheets = [_query(marts, sheet, params) for sheet in SHEETS]
    # Write-only mode: several times faster than the cell model for ~100k cells.
    wb = Workbook(write_only=True)
    _write_overview(
        wb,
        land=marts.land,
        snapshot=snapshot,
        sample=sample,
        published_at=published or marts.published_at,
        counts={d.sheet.title: len(d.rows) for d in sheets},
        notice=notice,
    )
    for data in sheets:
        _write_mart_sheet(wb, data, snapshot=snapshot, sample=sample)
    _write_dictionary(
        wb,
        {d.sheet.title: (d.sheet.mart, d.columns) for d in sheets},
        snapshot=snapshot,
        sample=sample,
    )
    wb.properties.title = "OZG-Verfügbarkeit Hessen – Workshop-Kennzahlen"
    wb.properties.subject = SAMPLE_NOTE if sample else "Kennzahlen aus den veröffentlichten Marts"
    buffer = io.BytesIO()
    wb.save(buffer)
    return atomic_write_bytes(path, buffer.getvalue())
