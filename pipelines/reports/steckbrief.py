"""Steckbrief: one page per Kommune for the pilot workshops.

Where the Kommune stands against its fair peers, which services its peers already offer
and it lacks, and how fast services reach it. Every figure is a value of a published
mart (the roll-out summaries come from ``mart_rollout_kommune``); the only aggregate
is the number of listed rows, named next to the figure. The map shows the Kommune among
the Gemeinden or Landkreise of Hessen (``karten.py``). The own roll-out effect and what
distinguishes the Kommune come from the drivers analysis (``own_effect.py``, with the effect
map and the Land's population median named as such).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pipelines.html.formatting import integer, percent, perspective
from pipelines.reports import charts
from pipelines.reports.data import PublishedMarts, ReportError, Row
from pipelines.reports.karten import ReportMaps, layer_key
from pipelines.reports.own_effect import own_effect_context
from pipelines.warehouse import column

TOP_GAPS = 10
TOP_LAGS = 8
PERSPECTIVE_ORDER = ("traeger", "buerger")


def _by_perspective(rows: list[Row]) -> dict[str, Row]:
    found = {r["perspektive"]: r for r in rows}
    return {p: found[p] for p in PERSPECTIVE_ORDER if p in found}


def _trend(marts: PublishedMarts, ars: str, snapshot: date) -> dict[str, dict[str, Any]]:
    rows = marts.rows(
        "select snapshot_date, perspektive, quote_online, n_online, n_anwendbar, peer_median, "
        "land_median from marts.mart_peer_vergleich where ars = ? and snapshot_date <= ? "
        "order by snapshot_date",
        [ars, snapshot],
    )
    trends: dict[str, dict[str, Any]] = {}
    y_floor = charts.axis_floor(
        [r[f] for r in rows for f in ("quote_online", "peer_median", "land_median")]
    )
    for key in PERSPECTIVE_ORDER:
        points = [r for r in rows if r["perspektive"] == key]
        if not points:
            continue
        dates = [r["snapshot_date"] for r in points]
        chart = charts.line_chart(
            dates,
            [
                charts.Series("diese Kommune", "kommune", [r["quote_online"] for r in points]),
                charts.Series(
                    "Median Vergleichsgruppe", "peer", [r["peer_median"] for r in points]
                ),
                charts.Series("Hessen-Median", "hessen", [r["land_median"] for r in points]),
            ],
            chart_id=f"trend-{key}",
            title=f"Online-Quote im Zeitverlauf, {perspective(key)}",
            description=(
                f"Liniendiagramm über {len(dates)} Stichtag(e): Online-Quote der Kommune "
                f"(zuletzt {percent(points[-1]['quote_online'])}) gegen den Median der "
                f"Vergleichsgruppe ({percent(points[-1]['peer_median'])}) und den Hessen-Median "
                f"({percent(points[-1]['land_median'])}). Die Werte stehen in der Tabelle darunter."
            ),
            width=580,
            height=300,
            y_floor=y_floor,
        )
        trends[key] = {"points": points, "chart": chart, "y_floor": y_floor}
    return trends


def _providers(row: Row, key: str) -> dict[str, Any]:
    parts = [
        ("eigene Einträge", "n_online_eigen", "anteil_eigen"),
        ("über den Kreis", "n_online_kreis", "anteil_kreis"),
        ("über das Land", "n_online_land", "anteil_land"),
        ("über den Bund", "n_online_bund", "anteil_bund"),
    ]
    segments = [
        charts.Segment(label, row[n], f"{integer(row[n])} ({percent(row[a])})")
        for label, n, a in parts
    ]
    chart = charts.stacked_bar(
        segments,
        row["n_online"],
        chart_id=f"anbieter-{key}",
        title=f"Wer stellt die {integer(row['n_online'])} Online-Leistungen bereit? "
        f"({perspective(key)})",
        description="Gestapelter Balken: "
        + "; ".join(f"{s.label} {s.caption}" for s in segments)
        + f"; zusammen {integer(row['n_online'])} Online-Leistungen.",
        width=580,
    )
    return {
        "chart": chart,
        "parts": [{"label": label, "n": row[n], "anteil": row[a]} for label, n, a in parts],
    }


def _rollout(marts: PublishedMarts, ars: str) -> dict[str, Any]:
    summary = marts.one("select * from marts.mart_rollout_kommune where ars = ?", [ars]) or {}
    window = {
        "von": summary.get("erster_stichtag"),
        "bis": summary.get("letzter_stichtag"),
        "n": summary.get("n_paare", 0),
    }
    own = {
        "n_gemessen": summary.get("n_gemessen", 0),
        "median_tage": summary.get("median_verzoegerung_tage"),
        "n_ausstehend": summary.get("n_ausstehend", 0),
        "n_vorher_online": summary.get("n_vorher_online", 0),
    }
    peers = {
        "n_kommunen": summary.get("peer_n", 0),
        "median_tage": summary.get("peer_median_verzoegerung_tage"),
        "n_gemessen": summary.get("peer_median_n_gemessen"),
        "n_ausstehend": summary.get("peer_median_n_ausstehend"),
    }
    slowest = marts.rows(
        "select r.leika_name, r.leika_key, r.t0_land, r.erstmals_online, r.verzoegerung_tage, "
        "d.t50, d.anteil_online_aktuell from marts.mart_rollout_kommune_leistung r "
        "left join marts.mart_diffusion_leistung d using (land, leika_key) "
        "where r.ars = ? and r.in_lag_statistik "
        "order by r.verzoegerung_tage desc, r.leika_name limit ?",
        [ars, TOP_LAGS],
    )
    pending = marts.rows(
        "select r.leika_name, r.leika_key, r.t0_land, r.t0_links_zensiert, r.verzoegerung_tage, "
        "d.anteil_online_aktuell, d.n_kommunen from marts.mart_rollout_kommune_leistung r "
        "left join marts.mart_diffusion_leistung d using (land, leika_key) "
        "where r.ars = ? and r.rechts_zensiert and r.t0_land is not null "
        "order by d.anteil_online_aktuell desc nulls last, r.t0_land, r.leika_name limit ?",
        [ars, TOP_LAGS],
    )
    return {"window": window, "own": own, "peers": peers, "slowest": slowest, "pending": pending}


def steckbrief_context(marts: PublishedMarts, ars: str, snapshot: date) -> dict[str, Any]:
    availability = _by_perspective(
        marts.rows(
            "select * from marts.mart_verfuegbarkeit_kommune "
            "where snapshot_date = ? and land = ? and ars = ?",
            [snapshot, marts.land, ars],
        )
    )
    if not availability:
        raise ReportError(
            f"ARS {ars} hat am Stichtag {snapshot.isoformat()} keine Zeile in "
            "mart_verfuegbarkeit_kommune (ARS prüfen: 12 Stellen, hessische Kommune)"
        )
    peers = _by_perspective(
        marts.rows(
            "select * from marts.mart_peer_vergleich where snapshot_date = ? and ars = ?",
            [snapshot, ars],
        )
    )
    stamm = next(iter(availability.values()))
    basket = marts.rows(
        "select * from marts.mart_prioritaeten_kommune where snapshot_date = ? and ars = ? "
        "order by korb, position",
        [snapshot, ars],
    )
    gaps = marts.rows(
        "select * from marts.mart_anschlussluecke where snapshot_date = ? and ars = ? "
        "order by rang",
        [snapshot, ars],
    )
    quality = marts.rows(
        "select * from marts.mart_datenqualitaet where snapshot_date = ? and land = ? "
        "order by tabelle",
        [snapshot, marts.land],
    )
    reconciliation = marts.one(
        "select * from marts.mart_abgleich_buergersicht where snapshot_date = ? and ars = ?",
        [snapshot, ars],
    )
    return {
        "ars": ars,
        "stamm": stamm,
        "availability": availability,
        "peers": peers,
        "trends": _trend(marts, ars, snapshot),
        "providers": {k: _providers(row, k) for k, row in availability.items()},
        "basket": basket,
        "basket_summary": basket[0] if basket else None,
        "gaps": gaps[:TOP_GAPS],
        "n_gaps": len(gaps),
        "n_gaps_basket": sum(1 for g in gaps if g["im_prioritaetenkorb"]),
        "rollout": _rollout(marts, ars),
        "own_effect": own_effect_context(marts, ars, stamm, snapshot, marts.is_sample()),
        "lagekarte": ReportMaps(marts, snapshot).figure(
            layer_key(stamm["kommunenart"]),
            "quote",
            map_id="karte-quote",
            highlight=[ars],
            highlight_label=f"{stamm['name']} (diese Kommune)",
            highlight_tag="diese Kommune",
        ),
        "quality": quality,
        "reconciliation": reconciliation,
        "defs": {
            "quote_online": column("mart_peer_vergleich", "quote_online"),
            "n_anwendbar": column("mart_peer_vergleich", "n_anwendbar"),
            "peer_median": column("mart_peer_vergleich", "peer_median"),
            "land_median": column("mart_peer_vergleich", "land_median"),
            "rang_peer": column("mart_peer_vergleich", "rang_peer"),
            "peer_gruppe": column("mart_peer_vergleich", "peer_gruppe"),
            "perspektive": column("mart_peer_vergleich", "perspektive"),
            "anteil_peers_online": column("mart_anschlussluecke", "anteil_peers_online"),
            "luecke_seit": column("mart_anschlussluecke", "luecke_seit"),
            "quote_korb": column("mart_prioritaeten_kommune", "quote_korb"),
            "online_korb": column("mart_prioritaeten_kommune", "online"),
            "verzoegerung_tage": column("mart_rollout_kommune_leistung", "verzoegerung_tage"),
            "t0_land": column("mart_rollout_kommune_leistung", "t0_land"),
            "in_lag_statistik": column("mart_rollout_kommune_leistung", "in_lag_statistik"),
            "anteil_eigen": column("mart_verfuegbarkeit_kommune", "anteil_eigen"),
        },
    }
