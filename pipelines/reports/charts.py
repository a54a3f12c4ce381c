"""Inline SVG charts, drawn on the server (no JavaScript, no external library).

Accessibility: every chart is ``role="img"`` with a ``<title>`` and ``<desc>`` referenced
by ``aria-labelledby``; each data point carries its own ``<title>`` (tooltip); series
differ by line style and marker shape, not only by colour; all colours reach at least
3:1 contrast on white (text 4.5:1). The page template puts a data table next to every
chart as the text alternative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from html import escape

from markupsafe import Markup

from pipelines.html.formatting import month_de, month_short, percent

INK = "#1b1b1b"
GRID = "#d0d4d9"
AXIS = "#5c6670"

# Colour, dash pattern and marker per role; the same role looks the same on every page.
STYLES: dict[str, dict[str, str]] = {
    "kommune": {"color": "#0b4f8a", "dash": "", "marker": "circle"},
    "peer": {"color": "#a14a00", "dash": "7 4", "marker": "diamond"},
    "hessen": {"color": "#4a4a4a", "dash": "2 3", "marker": "square"},
}
SEGMENT_COLORS = ("#0b4f8a", "#3d7fbf", "#a14a00", "#5f5f5f")


def _text(x: float, y: float, text: str, *, anchor: str = "start", **attrs: str | float) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(text)}</text>'


def _marker(kind: str, x: float, y: float, color: str, size: float, label: str) -> str:
    tip = f"<title>{escape(label)}</title>"
    if kind == "diamond":
        s = size * 1.25
        points = f"{x:.1f},{y - s:.1f} {x + s:.1f},{y:.1f} {x:.1f},{y + s:.1f} {x - s:.1f},{y:.1f}"
        return (
            f'<polygon points="{points}" fill="{color}" stroke="#fff" stroke-width="1">'
            f"{tip}</polygon>"
        )
    if kind == "square":
        return (
            f'<rect x="{x - size:.1f}" y="{y - size:.1f}" width="{2 * size:.1f}" '
            f'height="{2 * size:.1f}" fill="{color}" stroke="#fff" stroke-width="1">{tip}</rect>'
        )
    return (
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size:.1f}" fill="{color}" '
        f'stroke="#fff" stroke-width="1">{tip}</circle>'
    )


def _open_svg(chart_id: str, width: int, height: int, title: str, description: str) -> list[str]:
    return [
        f'<svg class="chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" '
        f'font-family="inherit" font-size="13" fill="{INK}">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(description)}</desc>',
    ]


def axis_floor(values: list[float | None], margin: float = 0.05) -> float:
    """Lower end of a shared 0–1 axis: the next 10 % step below the smallest value.

    Charts that are compared with each other get the same floor (the caller passes
    all their values), so equal distances mean equal differences everywhere."""
    present = [v for v in values if v is not None]
    if not present:
        return 0.0
    return max(0.0, math.floor((min(present) - margin) * 10) / 10)


def _ticks(floor: float) -> list[float]:
    step = 0.1 if floor >= 0.4 else 0.25 if floor == 0 else 0.2
    ticks, tick = [], 1.0
    while tick >= floor - 1e-9:
        ticks.append(round(tick, 4))
        tick -= step
    if ticks[-1] > floor + 1e-9:
        ticks.append(floor)
    return sorted(ticks)


@dataclass(frozen=True)
class Series:
    label: str
    role: str  # key of STYLES
    values: list[float | None]  # aligned with the chart's dates


def _legend(series_roles: list[tuple[str, str]], x: float, y: float) -> list[str]:
    parts = []
    for label, role in series_roles:
        style = STYLES[role]
        dash = f' stroke-dasharray="{style["dash"]}"' if style["dash"] else ""
        parts.append(
            f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + 26:.1f}" y2="{y:.1f}" '
            f'stroke="{style["color"]}" stroke-width="2.5"{dash}/>'
        )
        parts.append(_marker(style["marker"], x + 13, y, style["color"], 4, label))
        parts.append(_text(x + 32, y + 4, label))
        x += 56 + 7.5 * len(label)
    return parts


def line_chart(
    dates: list[date],
    series: list[Series],
    *,
    chart_id: str,
    title: str,
    description: str,
    width: int = 720,
    height: int = 280,
    legend: bool = True,
    end_label_role: str | None = "kommune",
    y_floor: float = 0.0,
) -> Markup:
    """Shares (0–1) over monthly snapshots on an axis from ``y_floor`` to 100 %."""
    left, right = 46, 70 if end_label_role else 16
    top, bottom = (34 if legend else 12), 30
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = _open_svg(chart_id, width, height, title, description)

    def x_of(i: int) -> float:
        return left + (plot_w / 2 if len(dates) == 1 else plot_w * i / (len(dates) - 1))

    def y_of(v: float) -> float:
        return top + plot_h * (1 - (v - y_floor) / (1 - y_floor))

    for tick in _ticks(y_floor):
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(_text(left - 6, y + 4, percent(tick, 0), anchor="end", fill=AXIS))
    step = max(1, -(-len(dates) // max(1, plot_w // 58)))  # keep labels from colliding
    last = len(dates) - 1
    for i, day in enumerate(dates):
        if (i % step == 0 and (i == last or last - i >= step)) or i == last:
            parts.append(
                _text(x_of(i), top + plot_h + 18, month_short(day), anchor="middle", fill=AXIS)
            )
    for s in series:
        style = STYLES[s.role]
        points = [(x_of(i), y_of(v), v, dates[i]) for i, v in enumerate(s.values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            dash = f' stroke-dasharray="{style["dash"]}"' if style["dash"] else ""
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{style["color"]}" '
                f'stroke-width="{3 if s.role == "kommune" else 2}"{dash}/>'
            )
        size = 4 if s.role == "kommune" else 3.2
        for x, y, v, day in points:
            parts.append(
                _marker(
                    style["marker"],
                    x,
                    y,
                    style["color"],
                    size,
                    f"{s.label}, {month_de(day)}: {percent(v)}",
                )
            )
        if s.role == end_label_role and points:
            x, y, v, _ = points[-1]
            parts.append(_text(x + 8, y + 4, percent(v), font_weight="700", fill=style["color"]))
    if legend:
        parts += _legend([(s.label, s.role) for s in series], left, 14)
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Segment:
    label: str
    value: int
    caption: str  # e.g. "120 (93,0 %)", formatted from mart values


def stacked_bar(
    segments: list[Segment],
    total: int,
    *,
    chart_id: str,
    title: str,
    description: str,
    width: int = 720,
) -> Markup:
    """One horizontal bar split into parts of ``total`` (e.g. online services by provider)."""
    left, right, bar_h = 4, 4, 34
    legend_rows = len(segments)
    height = bar_h + 16 + 22 * legend_rows
    parts = _open_svg(chart_id, width, height, title, description)
    plot_w = width - left - right
    x = float(left)
    for segment, color in zip(segments, SEGMENT_COLORS, strict=False):
        w = plot_w * segment.value / total if total else 0
        if w > 0:
            parts.append(
                f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{bar_h}" fill="{color}" '
                f'stroke="#fff" stroke-width="1"><title>{escape(segment.label)}: '
                f"{escape(segment.caption)}</title></rect>"
            )
            if w > 44:
                parts.append(
                    _text(
                        x + w / 2,
                        bar_h / 2 + 4,
                        str(segment.value),
                        anchor="middle",
                        fill="#fff",
                        font_weight="700",
                    )
                )
        x += w
    y = bar_h + 22
    for segment, color in zip(segments, SEGMENT_COLORS, strict=False):
        parts.append(f'<rect x="{left}" y="{y - 11}" width="14" height="14" fill="{color}"/>')
        parts.append(_text(left + 22, y, f"{segment.label}: {segment.caption}"))
        y += 22
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class DotRow:
    label: str
    values: dict[str, float | None]  # role -> share 0–1
    value_label: str  # shown right of the axis, e.g. "60,6 % (129 von 213)"


def dot_plot(
    rows: list[DotRow],
    legend_labels: dict[str, str],
    *,
    chart_id: str,
    title: str,
    description: str,
    width: int = 900,
    x_floor: float = 0.0,
) -> Markup:
    """Rows on one shared axis (``x_floor`` to 100 %): each Kommune against its peer
    and Hessen medians."""
    left, right, top, row_h = 230, 170, 40, 34
    plot_w = width - left - right
    height = top + row_h * len(rows) + 30
    parts = _open_svg(chart_id, width, height, title, description)

    def x_of(v: float) -> float:
        return left + plot_w * (v - x_floor) / (1 - x_floor)

    bottom = top + row_h * len(rows)
    for tick in _ticks(x_floor):
        x = x_of(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{bottom:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(_text(x, bottom + 18, percent(tick, 0), anchor="middle", fill=AXIS))
    for i, row in enumerate(rows):
        y = top + row_h * i + row_h / 2
        if i % 2 == 0:
            parts.append(
                f'<rect x="0" y="{top + row_h * i:.1f}" width="{width}" height="{row_h}" '
                f'fill="#f3f5f8"/>'
            )
        parts.append(_text(left - 10, y + 4, row.label, anchor="end"))
        own, peer = row.values.get("kommune"), row.values.get("peer")
        if own is not None and peer is not None:
            parts.append(
                f'<line x1="{x_of(own):.1f}" y1="{y:.1f}" x2="{x_of(peer):.1f}" y2="{y:.1f}" '
                f'stroke="{AXIS}" stroke-width="2"/>'
            )
        for role in ("hessen", "peer", "kommune"):
            value = row.values.get(role)
            if value is None:
                continue
            style = STYLES[role]
            size = 6.5 if role == "kommune" else 5
            tip = f"{row.label} – {legend_labels[role]}: {percent(value)}"
            parts.append(_marker(style["marker"], x_of(value), y, style["color"], size, tip))
        parts.append(_text(left + plot_w + 12, y + 4, row.value_label))
    x = left
    for role in ("kommune", "peer", "hessen"):
        style = STYLES[role]
        parts.append(_marker(style["marker"], x + 6, 16, style["color"], 5.5, legend_labels[role]))
        parts.append(_text(x + 18, 20, legend_labels[role]))
        x += 40 + 7.5 * len(legend_labels[role])
    parts.append("</svg>")
    return Markup("".join(parts))


# -- roll-out drivers: forest plot and Kaplan–Meier curves ---------------------------------
# Styles of the levels of one factor in the Kaplan–Meier charts: colour, dash, marker.
LEVEL_STYLES: tuple[dict[str, str], ...] = (
    STYLES["kommune"],
    STYLES["peer"],
    STYLES["hessen"],
    {"color": "#6a3d9a", "dash": "10 3 2 3", "marker": "circle"},
    {"color": "#1b6e3a", "dash": "1 3", "marker": "diamond"},
)
FOREST_TICKS = (0.1, 0.2, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0, 5.0, 10.0)
FOREST_LIMIT = 8.0  # the axis reaches at most 1/8 … 8; longer intervals end in an arrow


@dataclass(frozen=True)
class ForestRow:
    """One level of a factor: an estimate with its interval, or a note instead."""

    label: str
    value: float | None  # the ratio; None: ``note`` is shown instead
    low: float | None
    high: float | None
    value_label: str  # right of the axis: "0,65 (0,51–0,82)" or the note
    attrs: dict[str, str]  # data-* attributes of the row's group (e.g. faktor, auspraegung)
    heading: str | None = None  # a factor heading drawn above this row


def _forest_domain(rows: list[ForestRow]) -> float:
    """Half-width of the symmetric log axis around 1 (ln units)."""
    spread = [
        abs(math.log(v)) for r in rows for v in (r.low, r.high, r.value) if v is not None and v > 0
    ]
    reach = max([math.log(2.0), *spread]) * 1.08
    return min(reach, math.log(FOREST_LIMIT))


def forest_plot(
    rows: list[ForestRow],
    *,
    chart_id: str,
    title: str,
    description: str,
    width: int = 1100,
) -> Markup:
    """Ratios with their intervals on a log axis symmetric about 1 (marked): left of 1
    faster, right slower. A filled square: the interval excludes 1; hollow: it includes 1.
    Rows with a note (reference, too few observations) show the note instead."""
    left, right, top, row_h, head_h = 290, 350, 40, 26, 24
    plot_w = width - left - right
    n_heads = sum(1 for r in rows if r.heading)
    height = top + row_h * len(rows) + head_h * n_heads + 64
    half = _forest_domain(rows)
    parts = _open_svg(chart_id, width, height, title, description)

    def x_of(v: float) -> float:
        clipped = min(max(math.log(v), -half), half)
        return left + plot_w * (clipped + half) / (2 * half)

    bottom = height - 64
    ticks = [t for t in FOREST_TICKS if abs(math.log(t)) <= half + 1e-9]
    for tick in ticks:
        x = x_of(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 8}" x2="{x:.1f}" y2="{bottom:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        label = f"{tick:g}".replace(".", ",")
        parts.append(_text(x, bottom + 16, label, anchor="middle", fill=AXIS))
    one = x_of(1.0)
    parts.append(
        f'<line class="eins" x1="{one:.1f}" y1="{top - 14}" x2="{one:.1f}" y2="{bottom:.1f}" '
        f'stroke="{INK}" stroke-width="1.6"/>'
    )
    parts.append(_text(one, top - 20, "1 = kein Unterschied", anchor="middle", font_weight="700"))
    parts.append(_text(left, bottom + 34, "← schneller (unter 1)", fill=AXIS))
    parts.append(_text(left + plot_w, bottom + 34, "langsamer (über 1) →", anchor="end", fill=AXIS))
    parts.append(
        _text(one, bottom + 54, "Zeitverhältnis, logarithmische Achse", anchor="middle", fill=AXIS)
    )
    y = float(top)
    style = STYLES["kommune"]
    for i, row in enumerate(rows):
        if row.heading:
            parts.append(_text(8, y + 17, row.heading, font_weight="700"))
            y += head_h
        mid = y + row_h / 2
        attrs = "".join(f' data-{k}="{escape(v)}"' for k, v in row.attrs.items())
        parts.append(f'<g class="zeile"{attrs}>')
        if i % 2 == 0:
            parts.append(
                f'<rect x="0" y="{y:.1f}" width="{width}" height="{row_h}" fill="#f3f5f8"/>'
            )
        parts.append(_text(left - 10, mid + 4, row.label, anchor="end"))
        if row.value is not None and row.low is not None and row.high is not None:
            x0, x1, xv = x_of(row.low), x_of(row.high), x_of(row.value)
            parts.append(
                f'<line x1="{x0:.1f}" y1="{mid:.1f}" x2="{x1:.1f}" y2="{mid:.1f}" '
                f'stroke="{style["color"]}" stroke-width="2.2"/>'
            )
            for edge, x, sign in ((row.low, x0, -1), (row.high, x1, 1)):
                if abs(math.log(edge)) > half:  # cut off: an arrow head
                    tip = x + sign * 7
                    parts.append(
                        f'<polygon points="{tip:.1f},{mid:.1f} {x:.1f},{mid - 5:.1f} '
                        f'{x:.1f},{mid + 5:.1f}" fill="{style["color"]}"/>'
                    )
                else:
                    parts.append(
                        f'<line x1="{x:.1f}" y1="{mid - 5:.1f}" x2="{x:.1f}" y2="{mid + 5:.1f}" '
                        f'stroke="{style["color"]}" stroke-width="2"/>'
                    )
            excludes_one = row.low > 1 or row.high < 1
            fill = style["color"] if excludes_one else "#ffffff"
            parts.append(
                f'<rect class="schaetzung" x="{xv - 5.5:.1f}" y="{mid - 5.5:.1f}" width="11" '
                f'height="11" fill="{fill}" stroke="{style["color"]}" stroke-width="2">'
                f"<title>{escape(row.label)}: {escape(row.value_label)}</title></rect>"
            )
            parts.append(_text(left + plot_w + 14, mid + 4, row.value_label))
        else:
            parts.append(_text(left + plot_w + 14, mid + 4, row.value_label, fill=AXIS))
        parts.append("</g>")
        y += row_h
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class StepSeries:
    label: str
    points: list[tuple[int, float]]  # (month, share 0–1), increasing months


def step_chart(
    series: list[StepSeries],
    *,
    chart_id: str,
    title: str,
    description: str,
    x_label: str,
    width: int = 600,
    height: int = 340,
) -> Markup:
    """Shares (0–100 %) over whole months as step curves (Kaplan–Meier): one style per
    series (colour, dash and marker), legend above, one series per line."""
    left, right, bottom = 46, 16, 44
    top = 14 + 20 * len(series)
    plot_w, plot_h = width - left - right, height - top - bottom
    last = max([m for s in series for m, _ in s.points] or [1]) or 1
    parts = _open_svg(chart_id, width, height, title, description)

    def x_of(month: float) -> float:
        return left + plot_w * month / last

    def y_of(v: float) -> float:
        return top + plot_h * (1 - v)

    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(_text(left - 6, y + 4, percent(tick, 0), anchor="end", fill=AXIS))
    step = max(1, -(-last // 10))
    for month in range(0, last + 1, step):
        parts.append(_text(x_of(month), top + plot_h + 16, str(month), anchor="middle", fill=AXIS))
    parts.append(_text(left + plot_w / 2, top + plot_h + 34, x_label, anchor="middle", fill=AXIS))
    for n, s in enumerate(series):
        style = LEVEL_STYLES[n % len(LEVEL_STYLES)]
        if not s.points:
            continue
        coords = [f"{x_of(s.points[0][0]):.1f},{y_of(0.0):.1f}"]
        previous = 0.0
        for month, value in s.points:
            coords.append(f"{x_of(month):.1f},{y_of(previous):.1f}")
            coords.append(f"{x_of(month):.1f},{y_of(value):.1f}")
            previous = value
        dash = f' stroke-dasharray="{style["dash"]}"' if style["dash"] else ""
        parts.append(
            f'<polyline class="kurve" points="{" ".join(coords)}" fill="none" '
            f'stroke="{style["color"]}" stroke-width="2.4"{dash}/>'
        )
        for month, value in s.points:
            parts.append(
                _marker(
                    style["marker"],
                    x_of(month),
                    y_of(value),
                    style["color"],
                    3,
                    f"{s.label}, Monat {month}: {percent(value)}",
                )
            )
    for n, s in enumerate(series):
        style = LEVEL_STYLES[n % len(LEVEL_STYLES)]
        x = float(left)
        y = 12 + 20 * n
        dash = f' stroke-dasharray="{style["dash"]}"' if style["dash"] else ""
        parts.append(
            f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + 26:.1f}" y2="{y:.1f}" '
            f'stroke="{style["color"]}" stroke-width="2.5"{dash}/>'
        )
        parts.append(_marker(style["marker"], x + 13, y, style["color"], 4, s.label))
        parts.append(_text(x + 32, y + 4, s.label))
    parts.append("</svg>")
    return Markup("".join(parts))
