"""When the Kommune marts have no rows for the pilots' Land and Stichtag: say why.

An empty mart is a result, not a crash. The reports still render — every page the
facilitators expect, each with a German explanation of the cause and the remedy — and
the run summary names it. The usual cause on real data is the competence model: a
Leistung without a Zuständigkeit counts in no denominator, so when no Leistung resolves
for any Kommune type no Kommune has an applicable Leistung.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pipelines.html.formatting import integer
from pipelines.reports.data import PublishedMarts, Row

COMPETENCE_SEED = "dbt_project/seeds/competence_matrix.csv"
COMPETENCE_MART = "mart_zustaendigkeit_leistung"
LISTED = 25  # unresolved Leistungen shown on the page (the mart holds them all)


@dataclass(frozen=True)
class EmptyCause:
    snapshot: date
    summary: str  # one German sentence for the run summary and the page lead
    reasons: list[str] = field(default_factory=list)  # German bullet points
    unresolved: list[Row] = field(default_factory=list)
    unresolved_total: int = 0


def _count(marts: PublishedMarts, sql: str, params: list[object]) -> int:
    found = marts.one(sql, params)
    return int(found["n"]) if found and found["n"] is not None else 0


def empty_cause(marts: PublishedMarts, snapshot: date) -> EmptyCause:
    """Why the Kommune marts are empty for ``snapshot``, from the marts that are not."""
    land = marts.land
    reasons: list[str] = []
    entries = _count(
        marts,
        "select coalesce(sum(zeilen), 0) as n from marts.mart_datenqualitaet "
        "where snapshot_date = ? and land = ? and tabelle = 'verfuegbarkeit'",
        [snapshot, land],
    )
    if entries == 0:
        reasons.append(
            "Für diesen Stichtag liegen keine freigegebenen Verfügbarkeitseinträge vor "
            "(Tabelle verfuegbarkeit: 0 Zeilen). Der Qualitätsbericht "
            "(data/quality/report.html) nennt, ob der Abruf leer war oder blockiert wurde."
        )
    # The mart's grain is Land × Stichtag × LeiKa key: one row per Leistung.
    counts = marts.one(
        "select count(*) as total, count(*) filter (where not zugeordnet) as unresolved, "
        "count(*) filter (where zugeordnet and (kreisangehoerige_gemeinde or "
        "kreisangehoerige_stadt or sonderstatusstadt or kreisfreie_stadt or landkreis)) "
        f"as kommunal from marts.{COMPETENCE_MART} where snapshot_date = ? and land = ?",
        [snapshot, land],
    ) or {"total": 0, "unresolved": 0, "kommunal": 0}
    unresolved_total = int(counts["unresolved"])
    reasons.append(
        f"Von {integer(counts['total'])} Leistungen im Katalog haben {integer(unresolved_total)} "
        f"keine Zuständigkeit („nicht zugeordnet“); {integer(counts['kommunal'])} sind einem "
        "kommunalen Gebietstyp zugeordnet. Eine Leistung ohne Zuständigkeit zählt in keinem "
        "Nenner – ohne eine einzige kommunal zugeordnete Leistung hat keine Kommune eine "
        "anwendbare Leistung."
    )
    unresolved = marts.rows(
        f"select leika_key, leika_name, ozg_id, typisierung from marts.{COMPETENCE_MART} "
        "where snapshot_date = ? and land = ? and not zugeordnet "
        "order by leika_key limit ?",
        [snapshot, land, LISTED],
    )
    reasons.append(
        "Abhilfe: Zuständigkeitsregeln ergänzen – in "
        f"{COMPETENCE_SEED} eine Zeile je OZG-ID oder LeiKa-Schlüssel mit den zuständigen "
        "Gebietstypen (1 = zuständig) und der Quelle der Regel, dann `ozg run` erneut. "
        "Die Methode (Seite „Methode & Definitionen“) beschreibt die Ebenen der Zuordnung."
    )
    summary = (
        f"Die Kennzahlen für Land {land} am Stichtag {snapshot.isoformat()} enthalten keine "
        "Kommune"
        + (
            f": {unresolved_total} Leistungen ohne Zuständigkeit, keine kommunal zugeordnet"
            if unresolved_total
            else ""
        )
        + f" – Zuständigkeitsregeln in {COMPETENCE_SEED} ergänzen"
    )
    return EmptyCause(snapshot, summary, reasons, unresolved, unresolved_total)
