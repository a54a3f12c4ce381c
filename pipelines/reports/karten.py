"""The maps on the report pages: which mart value on which layer for which Kommunen (the
drawing, projection and classes are ``maps.py``).

* **Gemeinden map**: the Gemeinden of the marts (``kommunenart = 'Gemeinde'``, the
  kreisfreie Städte included) in the **Bürgersicht**, the view that compares kreisfreie and
  kreisangehörige Gemeinden on the same basket; the four gemeindefreie Gebiete have no row
  in the marts and show as "keine Daten".
* **Kreise map**: the Landkreise in the Trägersicht (their only view). The kreisfreie Städte
  are in the Kreise file too, but in the marts they are Gemeinden with a basket of a
  different scope: the Kreise map draws them hatched and points to the Gemeinden map
  (``geo/README.md``, "Kreisfreie Städte are in both files").

Values come from ``mart_peer_vergleich`` (pilots' Land, one Stichtag). Each scale is
computed from all values of its layer, so the index and every Steckbrief colour a value
alike. Another measure is one more entry in ``MEASURES`` — the own roll-out effect
(``zeitverhaeltnis`` of the Kommune-effect mart of docs/metrics.md §6.16; a ratio:
``diverging_scale`` centred at 1, ``unit="faktor"``) is the next one; no such map is drawn
yet (its exposure then names the mart).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date

from pipelines.html.formatting import date_de
from pipelines.reports import maps
from pipelines.reports.data import PublishedMarts, Row

KREISFREI_HINT = "kreisfreie Stadt – Wert in der Gemeindekarte"


@dataclass(frozen=True)
class Measure:
    column: str  # of mart_peer_vergleich
    title: str  # legend heading and map title
    scale: Callable[[list[float | None], str], maps.Scale]


MEASURES: dict[str, Measure] = {
    "quote": Measure(
        "quote_online",
        "Online-Quote",
        lambda values, title: maps.sequential_scale(values, title=title, unit="anteil"),
    ),
    "abstand": Measure(
        "abstand_peer_median",
        "Abstand zum Median der Vergleichsgruppe",
        lambda values, title: maps.diverging_scale(values, title=title, center=0.0, unit="punkte"),
    ),
}


@dataclass(frozen=True)
class LayerChoice:
    kommunenart: str  # the marts' Kommunen on this layer
    perspektive: str
    label: str  # "Gemeinden (Bürgersicht)"


LAYERS: dict[str, LayerChoice] = {
    "gemeinden": LayerChoice("Gemeinde", "buerger", "Gemeinden, Bürgersicht"),
    "kreise": LayerChoice("Landkreis", "traeger", "Landkreise, Trägersicht"),
}


@dataclass(frozen=True)
class MapFigure:
    """A map and what the page says around it."""

    map: maps.Choropleth
    heading: str
    short: str  # "Online-Quote, Gemeinden" for the table's summary line
    highlight_tag: str  # marks the highlighted rows of the table
    source: str  # mart and column


def layer_key(kommunenart: str) -> str:
    """The layer a Kommune's Steckbrief shows: Landkreise the Kreise map, Gemeinden
    (kreisfreie Städte included) the Gemeinden map."""
    return "kreise" if kommunenart == "Landkreis" else "gemeinden"


class ReportMaps:
    """The map values of one Stichtag (read once) and the maps drawn from them."""

    def __init__(self, marts: PublishedMarts, snapshot: date) -> None:
        self.snapshot = snapshot
        self.rows: list[Row] = marts.rows(
            "select ars, name, kommunenart, perspektive, "
            + ", ".join(m.column for m in MEASURES.values())
            + " from marts.mart_peer_vergleich where snapshot_date = ? and land = ? "
            "order by ars, perspektive",
            [snapshot, marts.land],
        )

    def figure(
        self,
        layer: str,
        measure: str,
        *,
        map_id: str,
        highlight: Collection[str] = (),
        highlight_label: str = "hervorgehoben",
        highlight_tag: str = "hervorgehoben",
    ) -> MapFigure:
        choice, spec = LAYERS[layer], MEASURES[measure]
        members = [r for r in self.rows if r["kommunenart"] == choice.kommunenart]
        names = {r["ars"]: r["name"] for r in members}
        values: dict[str, float | None] = dict.fromkeys(names)
        for r in members:
            if r["perspektive"] == choice.perspektive:
                values[r["ars"]] = r[spec.column]
        geometry = maps.layer(layer)
        other: dict[str, str] = {}
        if layer == "kreise":
            gemeinden = {r["ars"]: r["name"] for r in self.rows if r["kommunenart"] == "Gemeinde"}
            other = {s.ars: KREISFREI_HINT for s in geometry.shapes if s.ars in gemeinden}
            names.update({ars: gemeinden[ars] for ars in other})
        title = f"{spec.title} der {choice.label}, Stichtag {date_de(self.snapshot)}"
        choropleth = maps.choropleth(
            geometry,
            values,
            spec.scale(list(values.values()), spec.title),
            map_id=map_id,
            title=title,
            description=(
                f"Choroplethenkarte: {spec.title} je Fläche aus mart_peer_vergleich "
                f"({choice.label})."
            ),
            names=names,
            highlight=highlight,
            highlight_label=highlight_label,
            other=other,
        )
        return MapFigure(
            map=choropleth,
            heading=f"{spec.title}: {choice.label}",
            short=f"{spec.title}, {choice.label}",
            highlight_tag=highlight_tag,
            source=f"mart_peer_vergleich.{spec.column}",
        )
