"""German number and date formatting for the HTML pages (Jinja filters, see ``FILTERS``).

Only presentation: values come from the marts unchanged and are rounded for display.
A non-breaking space separates number and unit so "60,6 %" never wraps.
"""

from __future__ import annotations

from datetime import date, datetime

NBSP = "\u00a0"
MINUS = "\u2212"  # typographic minus, easier to read than a hyphen
DASH = "–"  # shown for missing values

MONTHS = ("Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez")


def _group(digits: str) -> str:
    """Insert '.' as thousands separator into an unsigned digit string."""
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return ".".join(parts)


def number(value: float | int | None, decimals: int = 0) -> str:
    """1234.5 -> '1.234,5' (German separators)."""
    if value is None:
        return DASH
    text = f"{abs(value):.{decimals}f}"
    whole, _, frac = text.partition(".")
    sign = MINUS if value < 0 and float(text) != 0 else ""
    return sign + _group(whole) + ("," + frac if frac else "")


def integer(value: int | float | None) -> str:
    return number(value, 0)


def median_count(value: float | None) -> str:
    """A median of counts: whole numbers without decimals, halves with one ('32,5')."""
    if value is None:
        return DASH
    return number(value, 0 if float(value).is_integer() else 1)


def perspective_names(text: str) -> str:
    """Replace the mart codes 'traeger'/'buerger' in a definition text by the German names."""
    for code, name in PERSPECTIVES.items():
        text = text.replace(f"{code} =", f"{name} =")
    return text


def percent(share: float | None, decimals: int = 1) -> str:
    """Share 0–1 -> '60,6 %'."""
    if share is None:
        return DASH
    return number(share * 100, decimals) + NBSP + "%"


def points(difference: float | None, decimals: int = 1, unit: str = "Pp.") -> str:
    """Difference of two shares (0–1 scale) -> '+3,9 Pp.' (Prozentpunkte), sign always shown."""
    if difference is None:
        return DASH
    value = difference * 100
    text = number(value, decimals)
    if not text.startswith(MINUS) and round(value, decimals) != 0:
        text = "+" + text
    return text + NBSP + unit


def days(value: int | float | None) -> str:
    if value is None:
        return DASH
    return number(value, 0) + NBSP + ("Tag" if value == 1 else "Tage")


def date_de(value: date | datetime | None) -> str:
    """2026-11-01 -> '01.11.2026'."""
    if value is None:
        return DASH
    return value.strftime("%d.%m.%Y")


def month_de(value: date | datetime | None) -> str:
    """2026-11-01 -> 'Nov 2026' (snapshots are monthly)."""
    if value is None:
        return DASH
    return f"{MONTHS[value.month - 1]} {value.year}"


def month_short(value: date | datetime) -> str:
    """2026-11-01 -> 'Nov 26' for chart axes."""
    return f"{MONTHS[value.month - 1]} {value.year % 100:02d}"


def yes_no(value: bool | None) -> str:
    if value is None:
        return DASH
    return "ja" if value else "nein"


def peer_group(key: str | None) -> str:
    """'06|kreisangehörige Gemeinde/Stadt|unter 10.000' -> readable German label."""
    if not key:
        return DASH
    parts = key.split("|")[1:]  # the first part is the Land code
    if len(parts) == 2:
        return f"{parts[0]}, {parts[1]} Einwohner"
    return parts[0] if parts else key


PERSPECTIVES = {
    "traeger": "Trägersicht",
    "buerger": "Bürgersicht",
}
PERSPECTIVE_HINTS = {
    "traeger": "Leistungen, für die die Kommune selbst zuständig ist",
    "buerger": "alles, was Einwohner bei Gemeinde, Kreis, Land und Bund online erledigen können",
}


def perspective(key: str) -> str:
    return PERSPECTIVES.get(key, key)


FILTERS = {
    "int": integer,
    "num": number,
    "pct": percent,
    "pp": points,
    "tage": days,
    "datum": date_de,
    "monat": month_de,
    "janein": yes_no,
    "peergruppe": peer_group,
    "perspektive": perspective,
    "median_anzahl": median_count,
    "sichtnamen": perspective_names,
}
