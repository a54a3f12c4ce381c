"""The report maps (``pipelines/reports/maps.py``): boundary files, projection,
simplification, classes and the SVG. Fast: no pipeline run, no browser (the maps on the
real pages are checked in Chromium by ``tests/integration/test_reports.py``)."""

from __future__ import annotations

import hashlib
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from pipelines.reports import maps

README = maps.GEO_DIR / "README.md"
ARS = re.compile(r"^06\d{10}$")


def parse_path(d: str) -> list[np.ndarray]:
    """The rings or lines of compact path data ("M x y l dx dy … z") in absolute units."""
    rings = []
    for part in re.findall(r"M[^M]*", d):
        head, _, body = part.rstrip("z").partition("l")
        start = np.array([int(v) for v in re.findall(r"-?\d+", head)])
        steps = np.array([int(v) for v in re.findall(r"-?\d+", body)]).reshape(-1, 2)
        rings.append(np.vstack([start, start + np.cumsum(steps, axis=0)]))
    return rings


def svg_tree(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def sample_layer() -> maps.Layer:
    """Three areas of the real Gemeinden layer, enough to draw a map quickly."""
    full = maps.layer("gemeinden")
    return maps.Layer(
        key="gemeinden",
        label="Gemeinden",
        year=full.year,
        shapes=full.shapes[:3],
        outline="",
        source_vertices=0,
    )


# -- the delivered files ------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(maps.SOURCES))
def test_the_copied_files_are_the_ones_the_readme_describes(key: str) -> None:
    source = maps.SOURCES[key]
    digest = hashlib.sha256((maps.GEO_DIR / source.file).read_bytes()).hexdigest()
    row = next(
        line for line in README.read_text("utf-8").splitlines() if f"`{source.file}`" in line
    )
    stated = re.findall(r"`([0-9a-f]{64})`", row)
    assert stated == [digest], (source.file, stated, digest)
    size = (maps.GEO_DIR / source.file).stat().st_size
    assert f"{size:,} B" in row


def test_the_readme_carries_licence_and_attribution() -> None:
    text = README.read_text("utf-8")
    assert "Datenlizenz Deutschland – Namensnennung – Version 2.0" in text
    assert maps.BKG_URL in text and maps.LICENCE_URL in text
    for key in maps.SOURCES:  # the README quotes the line under each map
        line = re.sub(r"<[^>]+>", "", str(maps.attribution(maps.layer(key))))
        assert f"`{line}`" in text, line


@pytest.mark.parametrize(("key", "count", "ags_digits"), [("gemeinden", 425, 8), ("kreise", 26, 5)])
def test_every_key_is_a_12_digit_hessian_ars(key: str, count: int, ags_digits: int) -> None:
    features = maps.read_features(key)
    keys = [f["properties"]["ARS"] for f in features]
    assert len(keys) == len(set(keys)) == count
    assert all(ARS.match(k) for k in keys), [k for k in keys if not ARS.match(k)]
    for feature in features:
        props = feature["properties"]
        ars, ags = props["ARS"], props["AGS"]
        assert len(ags) == ags_digits
        # ARS = Land, RB, Kreis (5) + Verband (4) + Gemeinde (3); AGS = Kreis (5) + Gemeinde (3)
        assert ars[:5] == ags[:5]
        if key == "gemeinden":
            assert ars[9:] == ags[5:]
        else:
            assert ars[5:] == "0000000"


def test_the_kreisfreie_staedte_are_in_both_files() -> None:
    kreise = {f["properties"]["ARS"]: f["properties"] for f in maps.read_features("kreise")}
    gemeinden = {f["properties"]["ARS"] for f in maps.read_features("gemeinden")}
    kreisfrei = {ars for ars, p in kreise.items() if p["BEZ"] == "Kreisfreie Stadt"}
    assert kreisfrei == set(kreise) & gemeinden
    assert len(kreisfrei) == 5


# -- projection and simplification ------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(maps.SOURCES))
def test_the_projection_keeps_hessen_inside_the_map(key: str) -> None:
    points = np.array(
        [p for f in maps.read_features(key) for ring in maps._feature_rings(f) for p in ring]
    )
    xy = maps.project(points)
    assert xy[:, 0].min() >= 0 and xy[:, 0].max() <= maps.MAP_WIDTH
    assert xy[:, 1].min() >= 0 and xy[:, 1].max() <= maps.MAP_HEIGHT
    # Hessen fills the map: less than 1 % margin on every side.
    assert xy[:, 0].min() < 0.01 * maps.MAP_WIDTH and xy[:, 1].min() < 0.01 * maps.MAP_HEIGHT
    assert xy[:, 0].max() > 0.99 * maps.MAP_WIDTH and xy[:, 1].max() > 0.99 * maps.MAP_HEIGHT
    # The drawn paths, too, and the drawn map ends left of the legend.
    drawn = np.vstack([r for s in maps.layer(key).shapes for r in parse_path(s.d)])
    assert drawn.min() >= 0
    assert drawn[:, 0].max() <= maps.MAP_WIDTH and drawn[:, 1].max() <= maps.MAP_HEIGHT
    assert maps.PAD + maps.MAP_WIDTH * maps.DRAW_SCALE < maps.LEGEND_X
    assert maps.PAD + maps.MAP_HEIGHT * maps.DRAW_SCALE <= maps.SVG_HEIGHT


def test_the_projection_is_equirectangular_scaled_by_the_mid_latitude() -> None:
    corner = maps.project(np.array([[maps.LON_MIN, maps.LAT_MAX], [maps.LON_MAX, maps.LAT_MIN]]))
    assert corner[0].tolist() == [0, 0]
    assert corner[1][1] == pytest.approx(maps.MAP_HEIGHT)
    # one degree east is cos(mid latitude) of one degree north
    step = maps.project(np.array([[9.0, 50.0], [10.0, 50.0], [9.0, 49.0]]))
    east, south = step[1] - step[0], step[2] - step[0]
    assert east[0] / south[1] == pytest.approx(math.cos(math.radians(50.53)), abs=1e-3)


def test_every_area_keeps_a_shape() -> None:
    for key, count in (("gemeinden", 425), ("kreise", 26)):
        shapes = maps.layer(key).shapes
        assert len(shapes) == count
        for shape in shapes:
            rings = parse_path(shape.d)
            assert rings and all(len(r) >= 3 for r in rings), shape.ars


def test_the_simplified_gemeinden_layer_stays_light() -> None:
    gemeinden = maps.layer("gemeinden")
    assert gemeinden.source_vertices > 80_000
    assert gemeinden.vertices < 20_000
    assert gemeinden.path_bytes < 100_000  # measured: ~59 kB
    assert maps.layer("kreise").path_bytes < 25_000  # measured: ~15 kB


def test_douglas_peucker_keeps_the_ends_and_the_far_points() -> None:
    line = np.array([[0, 0], [1, 0.1], [2, -0.1], [3, 5], [4, 0.05], [5, 0]], dtype=float)
    assert maps.douglas_peucker(line, 0.5).tolist() == [0, 2, 3, 4, 5]
    assert maps.douglas_peucker(line, 10).tolist() == [0, 5]
    assert maps.douglas_peucker(line[:2], 0.5).tolist() == [0, 1]


def test_neighbours_keep_one_shared_border() -> None:
    # Two squares (lon/lat) sharing a zigzag border from (9, 50) to (9, 50.2): each arc is
    # simplified once, so the border comes out identical in both rings (no gap, no sliver),
    # whether the zigzag (0.01° ≈ 2.8 map units) is kept or simplified away.
    border = [(9.0 + (0.01 if i % 2 else 0.0), 50.0 + i * 0.01) for i in range(21)]
    left = [(8.8, 50.0), *border, (8.8, 50.2)]
    right = [*reversed(border), (9.2, 50.0), (9.2, 50.2)]
    snapped = {tuple(p) for p in np.rint(maps.project(np.array(border))).astype(int)}
    ends = {tuple(p) for p in np.rint(maps.project(np.array(border[::20]))).astype(int)}
    for tolerance, expected in ((1.0, snapped), (5.0, ends)):
        rings, outline = maps.simplify_rings([left, right], tolerance=tolerance)
        assert rings[0] is not None and rings[1] is not None
        a, b = ({tuple(p) for p in ring} for ring in rings)
        assert a & b == expected, tolerance
        assert len(outline) == 2  # the two outer halves: arcs of one ring only


# -- classes ------------------------------------------------------------------------------------


def test_classify_is_lower_inclusive() -> None:
    edges = (0.5, 0.55, 0.6)
    assert maps.classify(0.1, edges) == 0
    assert maps.classify(0.5, edges) == 1
    assert maps.classify(0.5499, edges) == 1
    assert maps.classify(0.55, edges) == 2
    assert maps.classify(0.6, edges) == 3
    assert maps.classify(1.0, edges) == 3
    assert maps.classify(None, edges) is None
    assert maps.classify(float("nan"), edges) is None
    assert maps.classify(0.3, ()) == 0


def test_sequential_scale_uses_round_steps_and_states_them() -> None:
    scale = maps.sequential_scale([0.488, 0.61, 0.772, None], title="Online-Quote")
    assert scale.edges == (0.5, 0.55, 0.6, 0.65, 0.7, 0.75)
    assert scale.colours == maps.SEQUENTIAL[7]
    assert scale.labels() == [
        "unter 50\u00a0%",
        "50 bis unter 55\u00a0%",
        "55 bis unter 60\u00a0%",
        "60 bis unter 65\u00a0%",
        "65 bis unter 70\u00a0%",
        "70 bis unter 75\u00a0%",
        "75\u00a0% und mehr",
    ]
    assert scale.rule == "gleich breite Stufen von 5\u00a0Pp. über die Spanne der Werte"
    assert scale.colour(0.61) == maps.SEQUENTIAL[7][3]
    assert scale.colour(None) == maps.NO_DATA
    narrow = maps.sequential_scale([0.689, 0.811], title="x")
    assert narrow.edges == (0.7, 0.72, 0.74, 0.76, 0.78, 0.8)
    assert maps.sequential_scale([0.4, 0.4], title="x").edges == ()
    assert maps.sequential_scale([None], title="x").labels() == ["alle Werte"]


def test_diverging_scale_is_centred() -> None:
    # 27 values within ±2.6 Pp., then 6.6, 14 and −22 Pp.: the 90th percentile of the
    # distances is 6.6 Pp., so the classes reach ±10 Pp. in steps of 4 Pp.
    distances = [-0.026 + 0.002 * i for i in range(27)] + [0.066, 0.14, -0.22]
    scale = maps.diverging_scale(distances, title="Abstand", center=0.0, unit="punkte")
    assert scale.edges == (-0.1, -0.06, -0.02, 0.02, 0.06, 0.1)
    assert scale.colours == maps.DIVERGING[3]
    assert scale.klass(0.0) == 3  # the middle class holds the median itself
    assert scale.colour(0.0) == "#f7f7f7"
    assert scale.labels()[3] == "\u22122 bis unter +2\u00a0Pp."
    assert scale.labels()[0] == "unter \u221210\u00a0Pp."
    assert scale.labels()[-1] == "+10\u00a0Pp. und mehr"
    ratio = maps.diverging_scale(
        [0.8, 0.95, 1.0, 1.1, 1.3], title="Effekt", center=1.0, unit="faktor"
    )
    assert ratio.edges[2] < 1.0 < ratio.edges[3]
    assert ratio.edges[2] + ratio.edges[3] == pytest.approx(2.0)
    assert ratio.klass(1.0) == 3


def test_a_scale_refuses_inconsistent_edges() -> None:
    with pytest.raises(ValueError):
        maps.Scale("x", (0.5, 0.4), ("#000", "#111", "#222"), "anteil", "")
    with pytest.raises(ValueError):
        maps.Scale("x", (0.5,), ("#000",), "anteil", "")


# -- the map ------------------------------------------------------------------------------------


def draw(**kwargs: object) -> maps.Choropleth:
    layer = kwargs.pop("layer", None) or sample_layer()
    a, b, c = (s.ars for s in layer.shapes[:3])
    values = kwargs.pop("values", None) or {a: 0.612, b: None, c: 0.7}
    scale = maps.Scale("Online-Quote", (0.6, 0.65), ("#ffffcc", "#41b6c4", "#253494"), "anteil", "")
    return maps.choropleth(
        layer,
        values,
        scale,
        map_id="karte-test",
        title="Testkarte",
        description="Test.",
        names={a: "Erste Gemeinde"},
        **kwargs,
    )


def paths(m: maps.Choropleth) -> list[ET.Element]:
    return [p for p in svg_tree(m.svg).iter("path") if p.get("data-ars")]


def test_the_svg_is_an_accessible_image_with_one_path_per_area() -> None:
    m = draw()
    root = svg_tree(m.svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "karte-test-t karte-test-d"
    assert root.find("title").get("id") == "karte-test-t"
    assert root.find("desc").get("id") == "karte-test-d"
    assert "Tabelle zur Karte" in root.find("desc").text
    first = sample_layer().shapes[0]
    drawn = {p.get("data-ars"): p for p in paths(m)}
    assert set(drawn) == {s.ars for s in sample_layer().shapes}
    path = drawn[first.ars]
    assert path.get("data-wert") == "0.612"
    assert path.get("fill") == "#41b6c4"
    assert path.find("title").text == "Erste Gemeinde: 61,2\u00a0%"
    assert path.get("d") == first.d


def test_a_missing_value_is_grey_listed_and_in_the_legend() -> None:
    m = draw()
    second = sample_layer().shapes[1]
    path = next(p for p in paths(m) if p.get("data-ars") == second.ars)
    assert path.get("fill") == maps.NO_DATA
    assert path.get("data-wert") == ""
    assert path.find("title").text == f"{second.name}: keine Daten"
    assert [e.ars for e in m.without_value] == [second.ars]
    row = next(r for r in m.legend if r.key == "keine-daten")
    assert (row.label, row.fill, row.count) == ("keine Daten", maps.NO_DATA, 1)
    entry = next(e for e in m.entries if e.ars == second.ars)
    assert (entry.label, entry.klasse, entry.status) == ("keine Daten", "", maps.STATUS_NO_DATA)


def test_a_value_without_geometry_is_listed_not_dropped() -> None:
    layer = sample_layer()
    a = layer.shapes[0].ars
    m = draw(values={a: 0.7, "069999999999": 0.55})
    assert [(e.ars, e.label) for e in m.without_geometry] == [("069999999999", "55,0\u00a0%")]
    assert "069999999999" not in {p.get("data-ars") for p in paths(m)}
    assert "069999999999" not in {e.ars for e in m.entries}


def test_the_legend_states_edges_colours_and_counts() -> None:
    m = draw()
    legend = svg_tree(m.svg).find("g[@class='legende']")
    classes = [g for g in legend.findall("g") if g.get("data-klasse", "").isdigit()]
    assert [(g.get("data-von"), g.get("data-bis")) for g in classes] == [
        ("", "0.6"),
        ("0.6", "0.65"),
        ("0.65", ""),
    ]
    assert [g.find("rect").get("fill") for g in classes] == ["#ffffcc", "#41b6c4", "#253494"]
    assert [g.find("text").text for g in classes] == [
        "unter 60\u00a0% (0)",
        "60 bis unter 65\u00a0% (1)",
        "65\u00a0% und mehr (1)",
    ]
    assert legend.find("g[@data-klasse='keine-daten']") is not None


def test_the_highlighted_area_is_drawn_last_with_its_outline() -> None:
    layer = sample_layer()
    first = layer.shapes[0].ars
    m = draw(highlight=[first], highlight_label="diese Kommune")
    everything = list(svg_tree(m.svg).iter("path"))
    last = everything[-1]
    assert last.get("data-ars") == first
    assert last.get("class") == "hervorgehoben"
    assert last.get("stroke") == "#000000" and float(last.get("stroke-width")) >= 4
    assert last.get("fill") == "#41b6c4"  # the class colour, not a highlight colour
    halo = everything[-2]
    assert halo.get("class") == "halo" and halo.get("d") == last.get("d")
    assert [p.get("data-ars") for p in paths(m)].count(first) == 1
    assert m.legend[-1].key == "hervorgehoben" and m.legend[-1].label == "diese Kommune"
    assert [e.highlighted for e in m.entries if e.ars == first] == [True]


def test_areas_outside_the_map_are_hatched_and_named() -> None:
    layer = sample_layer()
    a, b, c = (s.ars for s in layer.shapes)
    m = draw(values={a: 0.62, b: 0.7}, other={c: "kreisfreie Stadt – Wert in der Gemeindekarte"})
    hatched = next(p for p in paths(m) if p.get("data-ars") == c)
    assert hatched.get("fill") == "url(#karte-test-schraffur)"
    assert svg_tree(m.svg).find(".//pattern").get("id") == "karte-test-schraffur"
    assert m.without_value == ()
    assert any(r.label.startswith("kreisfreie Stadt") and r.count == 1 for r in m.legend)


def test_the_attribution_names_bkg_the_year_and_the_licence() -> None:
    text = str(maps.attribution(maps.layer("gemeinden")))
    assert f'<a href="{maps.BKG_URL}">GeoBasis-DE / BKG</a> 2025 (Daten verändert' in text
    assert f'<a href="{maps.LICENCE_URL}">Datenlizenz Deutschland – Namensnennung – 2.0</a>' in text
    assert "2019" in str(maps.attribution(maps.layer("kreise")))


def test_a_full_gemeinden_map_stays_under_150_kb() -> None:
    layer = maps.layer("gemeinden")
    values = {s.ars: 0.4 + (i % 40) / 100 for i, s in enumerate(layer.shapes)}
    names = {s.ars: f"{s.name}, Stadt" for s in layer.shapes}
    scale = maps.sequential_scale(values.values(), title="Online-Quote")
    m = maps.choropleth(
        layer,
        values,
        scale,
        map_id="karte-gross",
        title="Online-Quote",
        description="Test.",
        names=names,
        highlight=[layer.shapes[10].ars],
    )
    assert len(str(m.svg).encode("utf-8")) < 150_000
    assert len(paths(m)) == 425
