"""Index page: every Hessian Kommune with its key figures in one sortable, filterable table
(the pilots' Land only, whatever other Länder the marts hold).

Rows come from ``mart_peer_vergleich`` (Trägersicht and Bürgersicht) joined with
``mart_verfuegbarkeit_kommune`` (Kreis, Einwohner), ``mart_prioritaeten_kommune`` (basket)
and the number of rows per Kommune in ``mart_anschlussluecke``. Below the table: the maps of
the online quote and the distance to the peer median, Gemeinden and Landkreise, the pilots
outlined, and of the own roll-out effect where the drivers analysis has one (``karten.py``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pipelines.reports.data import PublishedMarts
from pipelines.reports.karten import MapFigure, ReportMaps
from pipelines.reports.render import steckbrief_file
from pipelines.warehouse import column
from sources.config import PILOT_ARS

INDEX_SQL = """
with basket as (
    select distinct ars, korb, n_online_korb, n_anwendbar_korb, quote_korb
    from marts.mart_prioritaeten_kommune
    where snapshot_date = $snapshot and land = $land
      and korb = (select min(korb) from marts.mart_prioritaeten_kommune
                  where snapshot_date = $snapshot and land = $land)
), gaps as (
    select ars, count(*) as n_luecken
    from marts.mart_anschlussluecke where snapshot_date = $snapshot and land = $land
    group by ars
)
select v.ars, v.name, v.gebietstyp, v.kreis_name, v.kreis_ars, v.bevoelkerung, v.ist_pilot,
       t.quote_online, t.n_online, t.n_anwendbar, t.peer_median, t.abstand_peer_median,
       t.rang_peer, t.peer_n, t.peer_gruppe, t.land_median,
       b.quote_online as quote_buerger, b.n_online as n_online_buerger,
       b.n_anwendbar as n_anwendbar_buerger,
       k.korb, k.n_online_korb, k.n_anwendbar_korb, k.quote_korb,
       coalesce(g.n_luecken, 0) as n_luecken
from marts.mart_verfuegbarkeit_kommune v
join marts.mart_peer_vergleich t
  on t.ars = v.ars and t.snapshot_date = v.snapshot_date and t.perspektive = 'traeger'
left join marts.mart_peer_vergleich b
  on b.ars = v.ars and b.snapshot_date = v.snapshot_date and b.perspektive = 'buerger'
left join basket k on k.ars = v.ars
left join gaps g on g.ars = v.ars
where v.snapshot_date = $snapshot and v.land = $land and v.perspektive = 'traeger'
order by v.ist_pilot desc, v.name
"""


def index_maps(marts: PublishedMarts, snapshot: date) -> list[MapFigure]:
    """Online quote and distance to the peer median, each for Gemeinden and Landkreise, and
    the own roll-out effect (when the analysis marts have values)."""
    source = ReportMaps(marts, snapshot)
    measures = ["quote", "abstand"] + (["effekt"] if source.has_values("effekt") else [])
    return [
        source.figure(
            layer,
            measure,
            map_id=f"karte-{measure}-{layer}",
            highlight=PILOT_ARS,
            highlight_label="Pilotkommune",
            highlight_tag="Pilot",
        )
        for measure in measures
        for layer in ("gemeinden", "kreise")
    ]


def index_context(marts: PublishedMarts, snapshot: date, out_dir: Path) -> dict[str, Any]:
    cursor = marts.con.execute(INDEX_SQL, {"snapshot": snapshot, "land": marts.land})
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    for row in rows:
        # Link only Steckbriefe that exist; the others are produced on request.
        row["steckbrief"] = (
            steckbrief_file(row["ars"])
            if (out_dir / steckbrief_file(row["ars"])).exists()
            else None
        )
    maps = index_maps(marts, snapshot)
    return {
        "rows": rows,
        "gebietstypen": sorted({r["gebietstyp"] for r in rows}),
        "kreise": sorted({r["kreis_name"] for r in rows if r["kreis_name"]}),
        "korb": next((r["korb"] for r in rows if r["korb"]), None),
        "karten": [k for k in maps if not k.map.map_id.startswith("karte-effekt")],
        "effektkarten": [k for k in maps if k.map.map_id.startswith("karte-effekt")],
        "defs": {
            "quote_online": column("mart_peer_vergleich", "quote_online"),
            "peer_median": column("mart_peer_vergleich", "peer_median"),
            "abstand_peer_median": column("mart_peer_vergleich", "abstand_peer_median"),
            "rang_peer": column("mart_peer_vergleich", "rang_peer"),
            "quote_korb": column("mart_prioritaeten_kommune", "quote_korb"),
        },
    }
