"""Choropleth maps of Hessen as inline SVG, drawn on the server (no JavaScript, no library).

What this module owns:

* **The boundary layers**: the two GeoJSON files in ``geo/`` (provenance, licence and
  SHA-256 in ``geo/README.md``), read, projected and simplified once per process
  (``layer``), keyed by the 12-digit ARS.
* **The projection** (``project``): equirectangular, longitude scaled by the cosine of the
  mid latitude of Hessen's bounding box (50.53°), north up. Over Hessen's 2.3° of latitude
  the east–west scale is off by less than 2 % at the northern and southern edge — invisible
  in a choropleth. 1 map unit ≈ 253 m; the map is ``MAP_WIDTH`` × ``MAP_HEIGHT`` units and
  is drawn at ``DRAW_SCALE`` (≈ 361 × 520 px at 100 %).
* **The simplification for the page**: the rings are cut into arcs where three areas (or an
  area and the Land border) meet; every arc is simplified once with Douglas–Peucker at
  ``TOLERANCE`` (1 unit ≈ 253 m ≈ 0.5 px as drawn) and snapped to the integer grid, so
  neighbours keep identical borders — no gaps, no slivers. Measured on the delivered files
  (vertices without the rings' closing ones): Gemeinden 83,985 → 13,919 vertices, 58.7 kB
  of path data (plus 4.8 kB Land outline), ~121 kB for the whole map SVG with values,
  tooltips and legend; Kreise 4,331 → 3,603 vertices, 14.8 kB, ~32 kB SVG
  (``tests/unit/test_maps.py`` bounds the path data at 100 kB and a Gemeinden SVG at 150 kB).
* **The classed colour scales**: ``classify`` (value → class index) and ``Scale.colour``
  (class → colour) are plain functions; ``sequential_scale`` (rates; ColorBrewer YlGnBu)
  and ``diverging_scale`` (distances and effects around 0 or 1; ColorBrewer PuOr) choose
  the edges, which the legend states. Both palettes are colour-blind safe; a missing value
  is a neutral grey with its own legend entry.
* **``choropleth``**: the SVG (one ``<path>`` per area with ``data-ars``, ``data-wert``,
  ``fill`` and a tooltip; the highlighted areas last, outlined thickly; legend with the
  number of areas per class) plus what the page lists next to it: every area with its
  value (the table alternative), the Kommunen that have a value but no geometry, and the
  geometries without a value.

What a map shows — which mart column, which Kommunen, which highlight — is the caller's
(``karten.py``). A new map is one call, e.g. for an effect centred at 1::

    scale = diverging_scale(values.values(), title="Roll-out-Effekt", center=1.0, unit="faktor")
    choropleth(layer("gemeinden"), values, scale, map_id="karte-effekt", title=..., ...)
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path

import numpy as np
from markupsafe import Markup

from pipelines.html.formatting import number, percent, points

GEO_DIR = Path(__file__).parent / "geo"


@dataclass(frozen=True)
class LayerSource:
    """One delivered boundary file and the year its attribution names."""

    file: str
    label: str  # German, plural: "Gemeinden"
    year: int  # "© GeoBasis-DE / BKG <year>" (geo/README.md)


SOURCES: dict[str, LayerSource] = {
    "gemeinden": LayerSource("hessen_gemeinden_vg250ew.geojson", "Gemeinden", 2025),
    "kreise": LayerSource("hessen_kreise_vg250_20181231.geojson", "Kreise", 2019),
}

BKG_URL = "http://www.bkg.bund.de"
LICENCE_URL = "https://www.govdata.de/dl-de/by-2-0"

# -- projection --------------------------------------------------------------------------------
# Bounding box (lon/lat) a little larger than both files' (7.7725–10.2360, 49.3948–51.6576).
LON_MIN, LAT_MIN, LON_MAX, LAT_MAX = 7.76, 49.39, 10.25, 51.67
MID_LATITUDE = (LAT_MIN + LAT_MAX) / 2
MAP_HEIGHT = 1000  # map units from LAT_MAX (y = 0) to LAT_MIN (y = MAP_HEIGHT)
UNITS_PER_DEGREE = MAP_HEIGHT / (LAT_MAX - LAT_MIN)
X_FACTOR = math.cos(math.radians(MID_LATITUDE))
MAP_WIDTH = math.ceil((LON_MAX - LON_MIN) * X_FACTOR * UNITS_PER_DEGREE)
TOLERANCE = 1.0  # Douglas–Peucker tolerance in map units (≈ 253 m)
DRAW_SCALE = 0.52  # map units → SVG px


def project(lonlat: np.ndarray) -> np.ndarray:
    """(n, 2) longitude/latitude in degrees → (n, 2) map units, origin top left, y down."""
    lonlat = np.asarray(lonlat, dtype=float)
    x = (lonlat[:, 0] - LON_MIN) * X_FACTOR * UNITS_PER_DEGREE
    y = (LAT_MAX - lonlat[:, 1]) * UNITS_PER_DEGREE
    return np.column_stack((x, y))


# -- simplification ----------------------------------------------------------------------------
Point = tuple[float, float]


def douglas_peucker(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Indices of the points of an open polyline kept by Douglas–Peucker (both ends kept)."""
    n = len(points)
    if n < 3:
        return np.arange(n)
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        start, end = points[first], points[last]
        inner = points[first + 1 : last]
        dx, dy = end - start
        length = math.hypot(dx, dy)
        if length == 0:
            distance = np.hypot(inner[:, 0] - start[0], inner[:, 1] - start[1])
        else:
            distance = np.abs(dx * (inner[:, 1] - start[1]) - dy * (inner[:, 0] - start[0]))
            distance /= length
        farthest = int(np.argmax(distance))
        if distance[farthest] > tolerance:
            middle = first + 1 + farthest
            keep[middle] = True
            stack += [(first, middle), (middle, last)]
    return np.flatnonzero(keep)


def _simplify_arc(arc: tuple[Point, ...], tolerance: float) -> np.ndarray:
    """A projected, simplified, grid-snapped arc (closed arcs keep at least 3 points)."""
    xy = project(np.array(arc))
    if arc[0] == arc[-1] and len(arc) > 3:  # a ring without junctions: split at its far point
        far = int(np.argmax(np.hypot(*(xy - xy[0]).T)))
        head = douglas_peucker(xy[: far + 1], tolerance)
        tail = douglas_peucker(xy[far:], tolerance) + far
        kept = np.concatenate([head, tail[1:]])
    else:
        kept = douglas_peucker(xy, tolerance)
    return np.rint(xy[kept]).astype(np.int64)


def _junctions(rings: Sequence[Sequence[Point]]) -> set[Point]:
    """Vertices where the set of rings sharing a border changes: a vertex is a junction when
    its neighbours differ between the rings that contain it (three areas meet, or a shared
    border turns into the Land border)."""
    neighbours: dict[Point, set[frozenset[Point]]] = defaultdict(set)
    for ring in rings:
        for i, vertex in enumerate(ring):
            neighbours[vertex].add(frozenset((ring[i - 1], ring[(i + 1) % len(ring)])))
    return {vertex for vertex, pairs in neighbours.items() if len(pairs) > 1}


def _arcs(ring: Sequence[Point], junctions: set[Point]) -> list[tuple[Point, ...]]:
    """The ring cut at its junctions (each arc from junction to junction, closed rings
    rotated to their smallest vertex so both rings sharing them cut them alike)."""
    cuts = [i for i, vertex in enumerate(ring) if vertex in junctions]
    if not cuts:
        start = min(range(len(ring)), key=ring.__getitem__)
        rotated = [*ring[start:], *ring[:start]]
        return [(*rotated, rotated[0])]
    start = cuts[0]
    rotated = [*ring[start:], *ring[:start], ring[start]]
    offsets = [(i - start) % len(ring) for i in cuts] + [len(ring)]
    return [tuple(rotated[a : b + 1]) for a, b in itertools.pairwise(offsets)]


def _canonical(arc: tuple[Point, ...]) -> tuple[tuple[Point, ...], bool]:
    """The arc in a direction both rings sharing it agree on, and whether it was reversed."""
    reverse = arc[-1] < arc[0] or (arc[0] == arc[-1] and len(arc) > 2 and arc[-2] < arc[1])
    return (arc[::-1] if reverse else arc), reverse


def simplify_rings(
    rings: Sequence[Sequence[Point]], tolerance: float = TOLERANCE
) -> tuple[list[np.ndarray | None], list[np.ndarray]]:
    """Each ring (lon/lat, not closed) projected and simplified, shared borders alike, as
    an (n, 2) integer array, or None where the ring shrinks below 3 points; and the arcs
    that belong to one ring only (the outline of the layer)."""
    junctions = _junctions(rings)
    cache_: dict[tuple[Point, ...], np.ndarray] = {}
    uses: Counter[tuple[Point, ...]] = Counter()
    simplified: list[np.ndarray | None] = []
    for ring in rings:
        parts = []
        for arc in _arcs(ring, junctions):
            key, reverse = _canonical(arc)
            uses[key] += 1
            if key not in cache_:
                cache_[key] = _simplify_arc(key, tolerance)
            part = cache_[key][::-1] if reverse else cache_[key]
            parts.append(part if not parts else part[1:])
        simplified.append(_tidy(np.concatenate(parts)))
    outline = [cache_[key] for key, n in uses.items() if n == 1]
    return simplified, outline


def _tidy(ring: np.ndarray) -> np.ndarray | None:
    """Drop repeated vertices (snapping makes them) and the closing vertex."""
    keep = np.ones(len(ring), dtype=bool)
    keep[1:] = np.any(ring[1:] != ring[:-1], axis=1)
    ring = ring[keep]
    if len(ring) > 1 and (ring[0] == ring[-1]).all():
        ring = ring[:-1]
    return ring if len(ring) >= 3 else None


def path_data(rings: Iterable[np.ndarray], *, closed: bool = True) -> str:
    """Integer rings as compact SVG path data: absolute move, relative lines."""
    out = []
    for ring in rings:
        steps = np.diff(ring, axis=0).ravel()
        head = f"M{ring[0][0]} {ring[0][1]}"
        body = " ".join(str(v) for v in steps).replace(" -", "-")
        out.append(head + ("l" + body if body else "") + ("z" if closed else ""))
    return "".join(out)


@dataclass(frozen=True)
class Shape:
    ars: str
    name: str  # from the file (GEN, for a Kreis with BEZ where GEN is ambiguous)
    d: str  # SVG path data in map units
    vertices: int


@dataclass(frozen=True)
class Layer:
    key: str
    label: str
    year: int
    shapes: tuple[Shape, ...]
    outline: str  # path data of the layer's outer border (arcs of one ring only)
    source_vertices: int

    def by_ars(self) -> dict[str, Shape]:
        return {shape.ars: shape for shape in self.shapes}

    @property
    def path_bytes(self) -> int:
        return sum(len(shape.d) for shape in self.shapes)

    @property
    def vertices(self) -> int:
        return sum(shape.vertices for shape in self.shapes)


def read_features(key: str) -> list[dict]:
    """The features of a delivered file, as delivered."""
    text = (GEO_DIR / SOURCES[key].file).read_text(encoding="utf-8")
    return json.loads(text)["features"]


def _feature_rings(feature: dict) -> list[list[Point]]:
    geometry = feature["geometry"]
    polygons = (
        geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    )
    return [[tuple(p) for p in ring[:-1]] for polygon in polygons for ring in polygon]


@cache
def layer(key: str) -> Layer:
    """The layer ``"gemeinden"`` or ``"kreise"``, projected and simplified (once per process)."""
    source = SOURCES[key]
    features = read_features(key)
    owners: list[int] = []
    rings: list[list[Point]] = []
    for index, feature in enumerate(features):
        for ring in _feature_rings(feature):
            owners.append(index)
            rings.append(ring)
    simplified, outline = simplify_rings(rings)
    per_feature: dict[int, list[np.ndarray]] = defaultdict(list)
    for owner, ring, original in zip(owners, simplified, rings, strict=True):
        if ring is None:  # smaller than the grid: keep it unsimplified rather than lose it
            ring = _tidy(np.rint(project(np.array(original))).astype(np.int64))
        if ring is not None:
            per_feature[owner].append(ring)
    shapes = []
    for index, feature in enumerate(features):
        props = feature["properties"]
        name = props["GEN"]
        if props.get("BEZ") == "Landkreis" and any(
            f["properties"]["GEN"] == name and f is not feature for f in features
        ):
            name = f"{name} (Landkreis)"
        parts = per_feature[index]
        shapes.append(Shape(props["ARS"], name, path_data(parts), sum(len(p) for p in parts)))
    return Layer(
        key=key,
        label=source.label,
        year=source.year,
        shapes=tuple(shapes),
        outline=path_data(outline, closed=False),
        source_vertices=sum(len(r) for r in rings),
    )


# -- classed colour scales ---------------------------------------------------------------------
NO_DATA = "#bdbdbd"  # neutral grey; 1.9:1 against white, so it is drawn with an outline
OUTLINE = "#56606b"
# ColorBrewer YlGnBu (sequential, colour-blind safe), by number of classes.
SEQUENTIAL: dict[int, tuple[str, ...]] = {
    1: ("#41b6c4",),
    2: ("#a1dab4", "#225ea8"),
    3: ("#edf8b1", "#7fcdbb", "#2c7fb8"),
    4: ("#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"),
    5: ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"),
    6: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"),
    7: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"),
}
# ColorBrewer PuOr (diverging, colour-blind safe), by classes per side: below the centre
# orange, the centre class light grey, above the centre purple.
DIVERGING: dict[int, tuple[str, ...]] = {
    1: ("#f1a340", "#f7f7f7", "#998ec3"),
    2: ("#e66101", "#fdb863", "#f7f7f7", "#b2abd2", "#5e3c99"),
    3: ("#b35806", "#f1a340", "#fee0b6", "#f7f7f7", "#d8daeb", "#998ec3", "#542788"),
    4: (
        "#b35806",
        "#e08214",
        "#fdb863",
        "#fee0b6",
        "#f7f7f7",
        "#d8daeb",
        "#b2abd2",
        "#8073ac",
        "#542788",
    ),
}


def classify(value: float | None, edges: Sequence[float]) -> int | None:
    """The class of ``value`` for increasing ``edges``: 0 below the first edge, ``i`` for
    ``edges[i-1] <= value < edges[i]``, ``len(edges)`` from the last edge on; None for a
    missing value (None or NaN)."""
    if value is None or math.isnan(value):
        return None
    return bisect.bisect_right(edges, value)


@dataclass(frozen=True)
class Unit:
    """How a scale's values read: the edges as numbers (legend) and a value with its unit
    (tooltips, table)."""

    factor: float  # edge shown as edge * factor
    suffix: str  # after the upper number of a legend label
    signed: bool  # edges with "+" above 0 (distances)
    value_label: Callable[[float | None], str]


UNITS: dict[str, Unit] = {
    "anteil": Unit(100, "\u00a0%", False, percent),
    "punkte": Unit(100, "\u00a0Pp.", True, points),
    "faktor": Unit(1, "", False, lambda v: number(v, 2)),
}


@dataclass(frozen=True)
class Scale:
    """Classes of a map: ``edges`` (increasing, in value units) cut the values into
    ``len(edges) + 1`` classes, class ``i`` coloured ``colours[i]``."""

    title: str
    edges: tuple[float, ...]
    colours: tuple[str, ...]
    unit: str  # key of UNITS
    rule: str  # how the edges were chosen (German, shown under the map)

    def __post_init__(self) -> None:
        if len(self.colours) != len(self.edges) + 1:
            raise ValueError("a scale needs one colour more than edges")
        if list(self.edges) != sorted(set(self.edges)):
            raise ValueError("scale edges must increase")

    def klass(self, value: float | None) -> int | None:
        return classify(value, self.edges)

    def colour(self, value: float | None) -> str:
        index = self.klass(value)
        return NO_DATA if index is None else self.colours[index]

    def value_label(self, value: float | None) -> str:
        return "keine Daten" if value is None else UNITS[self.unit].value_label(value)

    def edge_label(self, edge: float) -> str:
        unit = UNITS[self.unit]
        scaled = edge * unit.factor
        decimals = next(
            (
                d
                for d in range(4)
                if all(abs(round(e * unit.factor, d) - e * unit.factor) < 1e-9 for e in self.edges)
            ),
            3,
        )
        text = number(scaled, decimals)
        if unit.signed and round(scaled, decimals) > 0:
            text = "+" + text
        return text

    def labels(self) -> list[str]:
        """German label per class: "unter 50 %", "50 bis unter 55 %", "75 % und mehr"."""
        suffix = UNITS[self.unit].suffix
        if not self.edges:
            return ["alle Werte"]
        e = [self.edge_label(x) for x in self.edges]
        middle = [f"{a} bis unter {b}{suffix}" for a, b in itertools.pairwise(e)]
        return [f"unter {e[0]}{suffix}", *middle, f"{e[-1]}{suffix} und mehr"]


def _nice_steps(spread: float) -> Iterable[float]:
    """1, 2, 2.5, 5 × 10^k from well below ``spread`` upwards."""
    exponent = math.floor(math.log10(spread)) - 2
    while True:
        for mantissa in (1, 2, 2.5, 5):
            yield mantissa * 10.0**exponent
        exponent += 1


def _present(values: Iterable[float | None]) -> list[float]:
    return [v for v in values if v is not None and not math.isnan(v)]


def sequential_scale(
    values: Iterable[float | None], *, title: str, unit: str = "anteil", max_classes: int = 7
) -> Scale:
    """Equal-width classes on round steps (1, 2, 2.5, 5 × 10^k) over the range of the values:
    the smallest step that needs at most ``max_classes`` classes; open below the first and
    above the last edge."""
    present = _present(values)
    lo, hi = (min(present), max(present)) if present else (0.0, 0.0)
    edges: tuple[float, ...] = ()
    if hi > lo:
        for step in _nice_steps(hi - lo):
            first, last = math.floor(lo / step) + 1, math.ceil(hi / step)
            candidate = tuple(round(k * step, 10) for k in range(first, last))
            if len(candidate) + 1 <= max_classes:
                edges = candidate
                break
    colours = SEQUENTIAL[len(edges) + 1]
    step_unit = "punkte" if unit == "anteil" else unit  # a step of shares is in Pp.
    step_text = (
        f"gleich breite Stufen von {_unit_number(edges[1] - edges[0], step_unit)} über die "
        "Spanne der Werte"
        if len(edges) > 1
        else "Spanne der Werte"
    )
    return Scale(title, edges, colours, unit, step_text)


def diverging_scale(
    values: Iterable[float | None],
    *,
    title: str,
    center: float = 0.0,
    unit: str = "punkte",
    per_side: int = 3,
    reverse: bool = False,
) -> Scale:
    """Classes symmetric about ``center`` (0 for a distance, 1 for a ratio): a middle class
    ``center ± step/2`` and ``per_side - 1`` classes of width ``step`` on each side, open
    beyond. The step is the smallest of 1, 2 or 4 × 10^k (so that half a step is round, too)
    whose classes reach the 90th percentile of the distances from the centre.

    ``reverse``: purple below the centre and orange above — for a measure where more is
    worse (a time ratio: above 1 slower), so orange means "behind" on every map."""
    deviations = sorted(abs(v - center) for v in _present(values))
    reach = deviations[min(len(deviations) - 1, int(0.9 * len(deviations)))] if deviations else 0
    step = 0.02
    if reach > 0:
        exponent = math.floor(math.log10(reach)) - 2
        candidates = sorted(m * 10.0**e for e in range(exponent, exponent + 4) for m in (1, 2, 4))
        step = next(s for s in candidates if (per_side - 0.5) * s >= reach)
    half = step / 2
    upper = [round(center + half + k * step, 10) for k in range(per_side)]
    lower = [round(center - half - k * step, 10) for k in reversed(range(per_side))]
    colours = DIVERGING[per_side]
    return Scale(
        title,
        (*lower, *upper),
        colours[::-1] if reverse else colours,
        unit,
        f"symmetrisch um {_unit_number(center, unit)}, Stufen von {_unit_number(step, unit)}",
    )


def _unit_number(value: float, unit: str) -> str:
    spec = UNITS[unit]
    scaled = value * spec.factor
    decimals = next((d for d in range(4) if abs(round(scaled, d) - scaled) < 1e-9), 3)
    return number(scaled, decimals) + spec.suffix


# -- the map -----------------------------------------------------------------------------------
STATUS_VALUE, STATUS_NO_DATA, STATUS_OTHER = "wert", "keine-daten", "anders"


@dataclass(frozen=True)
class Entry:
    """One area of a map or one Kommune that has no area, as the page lists it."""

    ars: str
    name: str
    value: float | None
    label: str  # the formatted value, "keine Daten" or the caller's label
    klasse: str  # the legend label of its class ("" without a value)
    colour: str
    status: str  # STATUS_VALUE / STATUS_NO_DATA / STATUS_OTHER
    highlighted: bool


@dataclass(frozen=True)
class LegendRow:
    key: str  # class index as text, "keine-daten", "anders-<n>" or "hervorgehoben"
    label: str
    fill: str
    count: int
    lower: float | None = None  # the class's edges (None = open)
    upper: float | None = None


@dataclass(frozen=True)
class Choropleth:
    map_id: str
    title: str
    layer: str  # the layer's German label
    svg: Markup
    scale: Scale
    legend: tuple[LegendRow, ...]
    entries: tuple[Entry, ...]  # every area of the layer, by name
    without_geometry: tuple[Entry, ...]  # a value (or a row) but no area in the layer
    without_value: tuple[Entry, ...]  # an area but no value
    attribution: Markup


def attribution(layer_: Layer) -> Markup:
    """The source note BKG's licence asks for (geo/README.md), linked."""
    return Markup(
        f'Geometrie ({escape(layer_.label)}): © <a href="{BKG_URL}">GeoBasis-DE / BKG</a> '
        f"{layer_.year} (Daten verändert, für die Karte vereinfacht); "
        f'<a href="{LICENCE_URL}">Datenlizenz Deutschland – Namensnennung – 2.0</a>'
    )


def _sort_key(name: str) -> str:
    folded = name.casefold()
    for umlaut, plain in (("ä", "a"), ("ö", "o"), ("ü", "u"), ("ß", "ss")):
        folded = folded.replace(umlaut, plain)
    return folded


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _value_attr(value: float | None) -> str:
    return "" if value is None else repr(float(value))


PAD = 8
LEGEND_X = PAD + math.ceil(MAP_WIDTH * DRAW_SCALE) + 22
LEGEND_WIDTH = 250
SVG_WIDTH = LEGEND_X + LEGEND_WIDTH
SVG_HEIGHT = 2 * PAD + math.ceil(MAP_HEIGHT * DRAW_SCALE)
ROW = 21
LABEL_CHARS = 28  # a legend label longer than this wraps


def choropleth(
    layer_: Layer,
    values: Mapping[str, float | None],
    scale: Scale,
    *,
    map_id: str,
    title: str,
    description: str,
    names: Mapping[str, str] | None = None,
    highlight: Collection[str] = (),
    highlight_label: str = "hervorgehoben",
    other: Mapping[str, str] | None = None,
) -> Choropleth:
    """The map of ``values`` (ARS → value; None = no value) on ``layer_``.

    ``names`` name the Kommunen (else the file's name); ``highlight`` are ARS drawn last
    with a thick outline; ``other`` are areas of the layer that this map does not colour
    (ARS → why, e.g. "kreisfreie Stadt – Wert in der Gemeindekarte"), drawn hatched. A
    value without an area is listed in ``without_geometry``, an area without a value is
    grey and listed in ``without_value`` — none is dropped."""
    names = names or {}
    other = other or {}
    shapes = layer_.by_ars()
    highlighted = set(highlight)
    hatch = f"{map_id}-schraffur"
    labels = scale.labels()

    def entry(ars: str, fallback: str) -> Entry:
        name = names.get(ars, fallback)
        if ars in other and ars not in values:
            return Entry(
                ars, name, None, other[ars], "", f"url(#{hatch})", STATUS_OTHER, ars in highlighted
            )
        value = values.get(ars)
        index = scale.klass(value)
        return Entry(
            ars,
            name,
            value,
            scale.value_label(value),
            "" if index is None else labels[index],
            scale.colour(value),
            STATUS_NO_DATA if index is None else STATUS_VALUE,
            ars in highlighted,
        )

    drawn = [entry(shape.ars, shape.name) for shape in layer_.shapes]
    missing = [
        entry(ars, names.get(ars, ars))
        for ars in sorted(values, key=lambda a: _sort_key(names.get(a, a)))
        if ars not in shapes
    ]

    counts = Counter(e.klasse for e in drawn if e.status == STATUS_VALUE)
    legend: list[LegendRow] = []
    bounds: list[float | None] = [None, *scale.edges, None]
    for i, label in enumerate(labels):
        legend.append(
            LegendRow(str(i), label, scale.colours[i], counts[label], bounds[i], bounds[i + 1])
        )
    n_no_data = sum(1 for e in drawn if e.status == STATUS_NO_DATA)
    legend.append(LegendRow("keine-daten", "keine Daten", NO_DATA, n_no_data))
    reasons = Counter(e.label for e in drawn if e.status == STATUS_OTHER)
    for n, (reason, count) in enumerate(sorted(reasons.items())):
        legend.append(LegendRow(f"anders-{n}", reason, f"url(#{hatch})", count))
    n_highlighted = sum(1 for e in drawn if e.highlighted)
    if n_highlighted:
        legend.append(LegendRow("hervorgehoben", highlight_label, "none", n_highlighted))

    highlighted_names = [e.name for e in drawn if e.highlighted]
    summary = (
        f" Karte der {layer_.label} Hessens, {len(drawn)} Flächen; Farbe: {scale.title} in "
        f"{len(labels)} Klassen ({'; '.join(labels)}); {n_no_data} ohne Daten"
        + (f"; {sum(reasons.values())} schraffiert" if reasons else "")
        + (f"; hervorgehoben: {', '.join(highlighted_names)}" if highlighted_names else "")
        + ". Alle Werte stehen in der Tabelle zur Karte."
    )
    svg = _svg(layer_, drawn, legend, scale, map_id, title, description + summary, bool(reasons))
    return Choropleth(
        map_id=map_id,
        title=title,
        layer=layer_.label,
        svg=svg,
        scale=scale,
        legend=tuple(legend),
        entries=tuple(sorted(drawn, key=lambda e: (_sort_key(e.name), e.ars))),
        without_geometry=tuple(missing),
        without_value=tuple(
            sorted(
                (e for e in drawn if e.status == STATUS_NO_DATA),
                key=lambda e: (_sort_key(e.name), e.ars),
            )
        ),
        attribution=attribution(layer_),
    )


def _path(entry: Entry, d: str, extra: str = "") -> str:
    return (
        f'<path data-ars="{entry.ars}" data-wert="{_value_attr(entry.value)}" '
        f'fill="{entry.colour}"{extra} d="{d}"><title>{escape(entry.name)}: '
        f"{escape(entry.label)}</title></path>"
    )


def _svg(
    layer_: Layer,
    drawn: list[Entry],
    legend: list[LegendRow],
    scale: Scale,
    map_id: str,
    title: str,
    description: str,
    hatched: bool,
) -> Markup:
    shapes = layer_.by_ars()
    parts = [
        f'<svg class="karte" role="img" aria-labelledby="{map_id}-t {map_id}-d" '
        f'viewBox="0 0 {SVG_WIDTH} {SVG_HEIGHT}" width="100%" style="max-width:{SVG_WIDTH}px" '
        f'font-family="inherit" font-size="13" fill="#1b1b1b" data-ebene="{layer_.key}">',
        f'<title id="{map_id}-t">{escape(title)}</title>',
        f'<desc id="{map_id}-d">{escape(description)}</desc>',
    ]
    if hatched:
        parts.append(
            f'<defs><pattern id="{map_id}-schraffur" width="8" height="8" '
            'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            '<rect width="8" height="8" fill="#f4f4f4"/>'
            '<line x1="0" y1="0" x2="0" y2="8" stroke="#8a8a8a" stroke-width="3"/>'
            "</pattern></defs>"
        )
    # Borders: white hairlines (0.5 px as drawn); the Land outline in grey on top.
    parts.append(
        f'<g class="flaechen" transform="translate({PAD} {PAD}) scale({DRAW_SCALE})" '
        'stroke="#ffffff" stroke-width="1" stroke-linejoin="round" fill-rule="evenodd">'
    )
    ordered = [e for e in drawn if not e.highlighted] + [e for e in drawn if e.highlighted]
    for e in ordered:
        if not e.highlighted:
            parts.append(_path(e, shapes[e.ars].d))
    parts.append(
        f'<path class="umriss" fill="none" stroke="{OUTLINE}" stroke-width="2" '
        f'd="{layer_.outline}"/>'
    )
    top = [e for e in ordered if e.highlighted]
    for e in top:  # a white halo first, so the black outline reads on every fill
        parts.append(
            f'<path class="halo" fill="none" stroke="#ffffff" stroke-width="10" '
            f'd="{shapes[e.ars].d}"/>'
        )
    for e in top:
        parts.append(
            _path(e, shapes[e.ars].d, ' class="hervorgehoben" stroke="#000000" stroke-width="5"')
        )
    parts.append("</g>")
    parts += _legend_svg(legend, scale)
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend_svg(legend: list[LegendRow], scale: Scale) -> list[str]:
    parts = [f'<g class="legende" transform="translate({LEGEND_X} {PAD + 6})">']
    y = 0
    for line in _wrap(scale.title, LABEL_CHARS - 2):
        parts.append(f'<text x="0" y="{y + 12}" font-weight="700">{escape(line)}</text>')
        y += 17
    y += 6
    for row in legend:
        lower = "" if row.lower is None else repr(row.lower)
        upper = "" if row.upper is None else repr(row.upper)
        attrs = (
            f' data-klasse="{row.key}" data-von="{lower}" data-bis="{upper}"'
            if row.key.isdigit()
            else f' data-klasse="{row.key}"'
        )
        if row.key == "hervorgehoben":
            swatch = (
                f'<rect x="1.5" y="{y + 1.5}" width="21" height="13" fill="#ffffff" '
                'stroke="#000000" stroke-width="2.6"/>'
            )
        else:
            swatch = (
                f'<rect class="farbe" x="0.5" y="{y + 0.5}" width="24" height="15" '
                f'fill="{row.fill}" stroke="{OUTLINE}" stroke-width="1"/>'
            )
        text = row.label if row.key == "hervorgehoben" else f"{row.label} ({row.count})"
        lines = _wrap(text, LABEL_CHARS)
        texts = "".join(
            f'<text x="32" y="{y + 12 + 15 * n}">{escape(line)}</text>'
            for n, line in enumerate(lines)
        )
        parts.append(f"<g{attrs}>{swatch}{texts}</g>")
        y += ROW + 15 * (len(lines) - 1)
    parts.append("</g>")
    return parts
