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

Values come from ``mart_peer_vergleich`` (pilots' Land, one Stichtag) — except the own
roll-out effect: ``zeitverhaeltnis`` of ``mart_rollout_kommune_effekt`` (docs/metrics.md
§6.16; one row per Kommune over the whole observation window, no Stichtag, no Perspektive),
a ratio on a ``diverging_scale`` centred at 1 with ``unit="faktor"``, reversed so that orange
is "slower than expected" as it is "below the peer median" on the other maps. The Kommunen
of a layer are always those of ``mart_peer_vergleich``; a Kommune without an own effect is
"keine Daten". Each scale is computed from all values of its layer, so the index, the
drivers page and every Steckbrief colour a value alike. Another measure is one more entry in
``MEASURES`` (its ``mart``, if not the peer mart, is read once per ``ReportMaps``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date

from pipelines.html.formatting import date_de
from pipelines.reports import maps
from pipelines.reports.data import PublishedMarts, Row
from sources.identifiers import identifier_list, relation

KREISFREI_HINT = "kreisfreie Stadt – Wert in der Gemeindekarte"


PEER_MART = "mart_peer_vergleich"
EFFECT_MART = "mart_rollout_kommune_effekt"


@dataclass(frozen=True)
class Measure:
    column: str  # of ``mart``
    title: str  # legend heading and map title
    scale: Callable[[list[float | None], str], maps.Scale]
    # PEER_MART: per Stichtag and Perspektive; any other: one row per Kommune (column ars).
    mart: str = PEER_MART


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
    "effekt": Measure(
        "zeitverhaeltnis",
        "Eigener Roll-out-Effekt (Zeitverhältnis)",
        lambda values, title: maps.diverging_scale(
            values, title=title, center=1.0, unit="faktor", reverse=True
        ),
        mart=EFFECT_MART,
    ),
}


@dataclass(frozen=True)
class LayerChoice:
    kommunenart: str  # the marts' Kommunen on this layer
    perspektive: str  # of the peer mart
    label: str  # "Gemeinden, Bürgersicht"
    plain: str  # "Gemeinden": for a measure without Perspektive


LAYERS: dict[str, LayerChoice] = {
    "gemeinden": LayerChoice("Gemeinde", "buerger", "Gemeinden, Bürgersicht", "Gemeinden"),
    "kreise": LayerChoice("Landkreis", "traeger", "Landkreise, Trägersicht", "Landkreise"),
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
        peer_columns = [m.column for m in MEASURES.values() if m.mart == PEER_MART]
        self.rows: list[Row] = marts.rows(
            f"select ars, name, kommunenart, perspektive, {identifier_list(peer_columns)} "
            f"from marts.{PEER_MART} where snapshot_date = ? and land = ? "
            "order by ars, perspektive",
            [snapshot, marts.land],
        )
        # The other marts' rows by ARS (one row per Kommune).
        self.by_ars: dict[str, dict[str, Row]] = {}
        for mart in sorted({m.mart for m in MEASURES.values()} - {PEER_MART}):
            columns = sorted({m.column for m in MEASURES.values() if m.mart == mart})
            found = marts.rows(
                f"select ars, {identifier_list(columns)} from {relation('marts', mart)} "
                "where land = ?",
                [marts.land],
            )
            self.by_ars[mart] = {r["ars"]: r for r in found}

    def has_values(self, measure: str) -> bool:
        """Whether any Kommune has a value of ``measure`` (the analysis marts may be empty)."""
        spec = MEASURES[measure]
        rows = self.rows if spec.mart == PEER_MART else self.by_ars[spec.mart].values()
        return any(r[spec.column] is not None for r in rows)

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
        if spec.mart == PEER_MART:
            for r in members:
                if r["perspektive"] == choice.perspektive:
                    values[r["ars"]] = r[spec.column]
        else:
            found = self.by_ars[spec.mart]
            for ars in values:
                values[ars] = found[ars][spec.column] if ars in found else None
        geometry = maps.layer(layer)
        other: dict[str, str] = {}
        if layer == "kreise":
            gemeinden = {r["ars"]: r["name"] for r in self.rows if r["kommunenart"] == "Gemeinde"}
            other = {s.ars: KREISFREI_HINT for s in geometry.shapes if s.ars in gemeinden}
            names.update({ars: gemeinden[ars] for ars in other})
        if spec.mart == PEER_MART:
            label = choice.label
            title = f"{spec.title} der {label}, Stichtag {date_de(self.snapshot)}"
        else:
            label = choice.plain
            title = f"{spec.title} der {label}, Beobachtungsfenster bis {date_de(self.snapshot)}"
        choropleth = maps.choropleth(
            geometry,
            values,
            spec.scale(list(values.values()), spec.title),
            map_id=map_id,
            title=title,
            description=(f"Choroplethenkarte: {spec.title} je Fläche aus {spec.mart} ({label})."),
            names=names,
            highlight=highlight,
            highlight_label=highlight_label,
            other=other,
        )
        return MapFigure(
            map=choropleth,
            heading=f"{spec.title}: {label}",
            short=f"{spec.title}, {label}",
            highlight_tag=highlight_tag,
            source=f"{spec.mart}.{spec.column}",
        )
