"""Roll-out drivers page (``treiber.html``): which factors go with a faster roll-out and which
Kommunen are slower than their profile lets expect (docs/metrics.md §6.16).

Reads the analysis marts of the pilots' Land: ``mart_rollout_treiber`` (the forest plot of
the time ratios and one sentence per level, ``driver_text.py``), ``mart_rollout_km`` (the
Kaplan–Meier curves of the strongest factors), ``mart_rollout_modellvergleich`` (which
model fits better) and ``mart_rollout_kommune_effekt`` (the slow Kommunen; the effect maps
via ``karten.py``). The strongest factors are the categorical ones whose estimated level
lies farthest from 1 on the log scale with an interval that excludes 1. The marts hold no
rows for a Land whose window is too short (one Stichtag, or too few adoptions): the page
then says so instead of drawing empty charts.
"""

from __future__ import annotations

import math
from datetime import date
from itertools import groupby
from pathlib import Path
from typing import Any

from pipelines.html.formatting import integer, percent
from pipelines.reports import charts
from pipelines.reports.data import PublishedMarts, Row
from pipelines.reports.driver_text import (
    MODEL_NAMES,
    POPULATION,
    REFERENCE,
    excludes_one,
    factor_label,
    factor_rank,
    interval,
    ratio,
    sentence,
)
from pipelines.reports.karten import MapFigure, ReportMaps
from pipelines.reports.render import steckbrief_file
from pipelines.warehouse import column
from sources.config import PILOT_ARS
from sources.sample import generator

KM_FACTORS = 3  # Kaplan–Meier charts for this many of the strongest factors
TREIBER = "mart_rollout_treiber"
KM = "mart_rollout_km"
MODELS = "mart_rollout_modellvergleich"
EFFECTS = "mart_rollout_kommune_effekt"
# Notes of mart_rollout_treiber.hinweis as the forest plot shows them (the table: in full).
SHORT_NOTES = {
    "nicht schätzbar: alle Paare schon am Stichtag t0 online": (
        "nicht schätzbar (alle bei t0 online)"
    ),
    "nicht schätzbar: mit anderen Faktoren verwechselt": "nicht schätzbar (verwechselt)",
}


def ordered_drivers(rows: list[Row]) -> list[Row]:
    """Factors in reading order; within a factor the reference first, then by pairs."""
    return sorted(
        rows,
        key=lambda r: (
            factor_rank(r["faktor"]),
            not r["ist_referenz"],
            -int(r["n_paare"] or 0),
            r["auspraegung"],
        ),
    )


def _value_label(row: Row) -> str:
    if row["geschaetzt"]:
        return f"{ratio(row['zeitverhaeltnis'])} ({interval(row['ki_unten'], row['ki_oben'])})"
    if row["ist_referenz"]:
        return "Referenz (= 1)"
    note = str(row["hinweis"] or "–")
    # The chart's column is narrow: the note's reason after the colon in brackets, shorter.
    return SHORT_NOTES.get(note, note)


def forest(rows: list[Row]) -> Any:
    """The forest plot: one row per mart row, grouped by factor."""
    entries = []
    for faktor, group in groupby(rows, key=lambda r: r["faktor"]):
        for i, row in enumerate(group):
            level = str(row["auspraegung"])
            entries.append(
                charts.ForestRow(
                    label="je +1 ln(Einwohner)" if faktor == POPULATION else level,
                    value=row["zeitverhaeltnis"] if row["geschaetzt"] else None,
                    low=row["ki_unten"] if row["geschaetzt"] else None,
                    high=row["ki_oben"] if row["geschaetzt"] else None,
                    value_label=_value_label(row),
                    attrs={"faktor": str(faktor), "auspraegung": level},
                    heading=factor_label(row) if i == 0 else None,
                )
            )
    estimated = [r for r in rows if r["geschaetzt"]]
    return charts.forest_plot(
        entries,
        chart_id="forest",
        title="Zeitverhältnisse der Roll-out-Faktoren mit 95-%-Intervall",
        description=(
            f"Forest-Plot mit {len(rows)} Zeilen, logarithmische Achse, senkrechte Linie bei 1 "
            "(kein Unterschied); links davon schneller, rechts langsamer. "
            + "; ".join(
                f"{factor_label(r)} {r['auspraegung']}: {_value_label(r)}" for r in estimated
            )
            + ". Alle Zeilen stehen in der Tabelle darunter."
        ),
    )


def strongest_factors(rows: list[Row], km_factors: set[str], n: int = KM_FACTORS) -> list[str]:
    """Categorical factors with curves, by their largest |ln ratio| among estimated levels
    whose interval excludes 1."""
    strength: dict[str, float] = {}
    for row in rows:
        if row["geschaetzt"] and excludes_one(row) and row["faktor"] in km_factors:
            size = abs(math.log(row["zeitverhaeltnis"]))
            strength[row["faktor"]] = max(strength.get(row["faktor"], 0.0), size)
    return sorted(strength, key=lambda f: (-strength[f], f))[:n]


def km_figures(marts: PublishedMarts, rows: list[Row]) -> list[dict[str, Any]]:
    curves = marts.rows(
        f"select faktor, faktor_bezeichnung, auspraegung, monate_seit_t0, anteil_eingefuehrt, "
        f"n_risiko, n_ereignisse, n_paare from marts.{KM} where land = ? "
        "order by faktor, auspraegung, monate_seit_t0",
        [marts.land],
    )
    chosen = strongest_factors(rows, {c["faktor"] for c in curves})
    figures = []
    for faktor in chosen:
        levels_order = [r["auspraegung"] for r in rows if r["faktor"] == faktor]
        mine = [c for c in curves if c["faktor"] == faktor]
        levels = sorted(
            {c["auspraegung"] for c in mine},
            key=lambda a: (levels_order.index(a) if a in levels_order else len(levels_order), a),
        )
        label = factor_label(next(r for r in rows if r["faktor"] == faktor))
        series = []
        for level in levels:
            points = [c for c in mine if c["auspraegung"] == level]
            n_paare = points[0]["n_paare"] if points else 0
            steps = [(int(c["monate_seit_t0"]), float(c["anteil_eingefuehrt"])) for c in points]
            series.append((charts.StepSeries(f"{level} ({integer(n_paare)} Paare)", steps), points))
        last = {s.label: (s.points[-1] if s.points else None) for s, _ in series}
        chart = charts.step_chart(
            [s for s, _ in series],
            chart_id=f"km-{faktor}",
            title=f"Anteil eingeführter Paare nach Monaten seit t0: {label}",
            description=(
                f"Kaplan–Meier-Kurven je Ausprägung von „{label}“, Anteil der Paare online "
                "(0 bis 100 %) über den Monaten seit t0; "
                + "; ".join(
                    f"{name}: nach {p[0]} Monaten {percent(p[1])}"
                    for name, p in last.items()
                    if p is not None
                )
                + ". Die Werte stehen in der Tabelle darunter."
            ),
            x_label="Monate seit t0 (erster Online-Stichtag in Hessen)",
        )
        months = sorted({int(c["monate_seit_t0"]) for c in mine})
        table = [
            {
                "monat": m,
                "werte": [
                    next((p for p in points if int(p["monate_seit_t0"]) == m), None)
                    for _, points in series
                ],
            }
            for m in months
        ]
        figures.append(
            {
                "faktor": faktor,
                "label": label,
                "chart": chart,
                "levels": levels,
                "table": table,
            }
        )
    return figures


def slow_kommunen(marts: PublishedMarts, out_dir: Path) -> list[Row]:
    """Kommunen slower than their profile lets expect (interval wholly above 1), slowest
    first; a link where a Steckbrief exists."""
    rows = marts.rows(
        f"select * from marts.{EFFECTS} where land = ? and einordnung = 'langsamer als erwartet' "
        "order by rang desc, ars",
        [marts.land],
    )
    for row in rows:
        file = steckbrief_file(row["ars"])
        row["steckbrief"] = file if (out_dir / file).exists() else None
        row["ist_pilot"] = row["ars"] in PILOT_ARS
    return rows


def effect_maps(marts: PublishedMarts, snapshot: date) -> list[MapFigure]:
    source = ReportMaps(marts, snapshot)
    if not source.has_values("effekt"):
        return []
    return [
        source.figure(
            layer,
            "effekt",
            map_id=f"karte-effekt-{layer}",
            highlight=PILOT_ARS,
            highlight_label="Pilotkommune",
            highlight_tag="Pilot",
        )
        for layer in ("gemeinden", "kreise")
    ]


def treiber_context(marts: PublishedMarts, snapshot: date, out_dir: Path) -> dict[str, Any]:
    rows = ordered_drivers(
        marts.rows(f"select * from marts.{TREIBER} where land = ?", [marts.land])
    )
    models = marts.rows(
        f"select * from marts.{MODELS} where land = ? order by delta_aic, modell", [marts.land]
    )
    counts = marts.one(
        f"select count(*) as n, count(*) filter (where einordnung = 'langsamer als erwartet') "
        f"as langsamer, count(*) filter (where einordnung = 'schneller als erwartet') "
        f"as schneller from marts.{EFFECTS} where land = ?",
        [marts.land],
    ) or {"n": 0, "langsamer": 0, "schneller": 0}
    snapshots = marts.snapshots()
    return {
        "rows": rows,
        "has_rows": bool(rows),
        "forest": forest(rows) if rows else None,
        "sentences": sorted(
            (sentence(r) for r in rows if not r["ist_referenz"]), key=lambda t: not t.estimated
        ),
        "reference_note": REFERENCE,
        "km": km_figures(marts, rows) if rows else [],
        "models": models,
        "preferred": next((m for m in models if m["bevorzugt"]), None),
        "other_model": next((m for m in models if not m["bevorzugt"]), None),
        "model_names": MODEL_NAMES,
        "slow": slow_kommunen(marts, out_dir),
        "effect_counts": counts,
        "karten": effect_maps(marts, snapshot),
        "window": {
            "von": rows[0]["erster_stichtag"] if rows else (snapshots[0] if snapshots else None),
            "bis": rows[0]["letzter_stichtag"] if rows else (snapshots[-1] if snapshots else None),
            "n_stichtage": len(snapshots),
        },
        "factor_label": factor_label,
        # What the sample generator plants (named on the page when the marts are sample data).
        "planted": {
            "plattform": ratio(generator.PLATFORM_FACTOR),
            "korb": ratio(generator.PRIORITY_FACTOR),
            "ikz": ratio(generator.IKZ_FACTOR),
        },
        "defs": {
            "effekt": column(EFFECTS, "zeitverhaeltnis"),
            "rang": column(EFFECTS, "rang"),
            "erwartet": column(EFFECTS, "n_ereignisse_erwartet"),
            "kreis": column(EFFECTS, "zeitverhaeltnis_kreis"),
        },
    }
