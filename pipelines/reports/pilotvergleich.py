"""Pilot comparison: the six pilot Kommunen side by side with their peers, on one scale.

Reads ``mart_pilotvergleich`` only (one row per pilot × Stichtag × Perspektive).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pipelines.html.formatting import integer, percent, perspective
from pipelines.reports import charts
from pipelines.reports.data import PublishedMarts, ReportError
from pipelines.reports.steckbrief import PERSPECTIVE_ORDER
from pipelines.warehouse import column

LEGEND = {"kommune": "Pilotkommune", "peer": "Median Vergleichsgruppe", "hessen": "Hessen-Median"}


def comparison_context(
    marts: PublishedMarts, snapshot: date, pilot_order: list[str]
) -> dict[str, Any]:
    rows = marts.rows(
        "select * from marts.mart_pilotvergleich where snapshot_date = ? and land = ?",
        [snapshot, marts.land],
    )
    if not rows:
        raise ReportError(f"mart_pilotvergleich hat keine Zeilen am Stichtag {snapshot}")
    rank = {ars: i for i, ars in enumerate(pilot_order)}
    # One axis for both perspectives, so the two dot plots read alike.
    x_floor = charts.axis_floor(
        [r[f] for r in rows for f in ("quote_online", "peer_median", "land_median")]
    )
    rows.sort(key=lambda r: (rank.get(r["ars"], len(rank)), r["ars"]))
    sections = []
    for key in PERSPECTIVE_ORDER:
        selected = [r for r in rows if r["perspektive"] == key]
        if not selected:
            continue
        dots = [
            charts.DotRow(
                r["name"],
                {
                    "kommune": r["quote_online"],
                    "peer": r["peer_median"],
                    "hessen": r["land_median"],
                },
                f"{percent(r['quote_online'])} ({integer(r['n_online'])} von "
                f"{integer(r['n_anwendbar'])})",
            )
            for r in selected
        ]
        chart = charts.dot_plot(
            dots,
            LEGEND,
            chart_id=f"vergleich-{key}",
            width=1000,
            title=f"Online-Quote der Pilotkommunen, {perspective(key)}, Stichtag "
            f"{snapshot.strftime('%d.%m.%Y')}",
            description="Punktdiagramm auf einer gemeinsamen Achse von 0 bis 100 %: "
            + "; ".join(
                f"{r['name']} {percent(r['quote_online'])}, Median Vergleichsgruppe "
                f"{percent(r['peer_median'])}, Hessen-Median {percent(r['land_median'])}"
                for r in selected
            )
            + ".",
            x_floor=x_floor,
        )
        sections.append({"key": key, "rows": selected, "chart": chart})

    history = marts.rows(
        "select snapshot_date, ars, name, quote_online, peer_median, land_median "
        "from marts.mart_pilotvergleich where perspektive = 'traeger' and snapshot_date <= ? "
        "and land = ? order by snapshot_date",
        [snapshot, marts.land],
    )
    dates = sorted({r["snapshot_date"] for r in history})
    y_floor = charts.axis_floor(
        [r[f] for r in history for f in ("quote_online", "peer_median", "land_median")]
    )
    trends = []
    for ars in sorted({r["ars"] for r in history}, key=lambda a: (rank.get(a, len(rank)), a)):
        by_date = {r["snapshot_date"]: r for r in history if r["ars"] == ars}
        name = next(iter(by_date.values()))["name"]

        def values(field: str, by_date: dict[date, Any] = by_date) -> list[float | None]:
            return [by_date[d][field] if d in by_date else None for d in dates]

        trends.append(
            {
                "ars": ars,
                "name": name,
                "quote": values("quote_online"),
                "peer": values("peer_median"),
                "chart": charts.line_chart(
                    dates,
                    [
                        charts.Series("Pilotkommune", "kommune", values("quote_online")),
                        charts.Series("Median Vergleichsgruppe", "peer", values("peer_median")),
                        charts.Series("Hessen-Median", "hessen", values("land_median")),
                    ],
                    chart_id=f"verlauf-{ars}",
                    title=f"{name}: Online-Quote (Trägersicht) im Zeitverlauf",
                    description=f"Liniendiagramm, Achse {percent(y_floor, 0)} bis 100 %, "
                    f"{len(dates)} Stichtag(e); "
                    f"zuletzt {percent(values('quote_online')[-1])} gegen Median "
                    f"Vergleichsgruppe {percent(values('peer_median')[-1])}.",
                    width=390,
                    height=230,
                    legend=False,
                    y_floor=y_floor,
                ),
            }
        )
    return {
        "x_floor": x_floor,
        "y_floor": y_floor,
        "sections": sections,
        "trends": trends,
        "dates": dates,
        "legend": LEGEND,
        "defs": {
            name: column("mart_pilotvergleich", name)
            for name in (
                "quote_online",
                "n_anwendbar",
                "peer_median",
                "land_median",
                "abstand_peer_median",
                "rang_peer",
                "quote_korb",
                "n_luecken",
                "perspektive",
                "peer_gruppe",
            )
        },
    }
