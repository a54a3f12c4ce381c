"""The Steckbrief's roll-out effect section: the Kommune's own effect (time ratio with its
interval and rank, ``mart_rollout_kommune_effekt``) and what distinguishes it — its values of
the Kommune factors of the drivers (population, Gebietstyp, the attributes of the seed
``kommune_merkmale``) next to the Land and the factor's time ratio from
``mart_rollout_treiber`` (docs/metrics.md §6.16).

The attribute values are read from the published copy of the seed (``seeds`` schema of
``data/published/ozg.duckdb``), the rows the analysis used: ``beispiel`` = true on sample
data, the others on live data; a Kommune without a row counts as "nein", as in the model.
The Land's population median is a median over ``mart_verfuegbarkeit_kommune`` and named so.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pipelines.html.formatting import integer, number
from pipelines.reports.data import PublishedMarts, Row
from pipelines.reports.driver_text import (
    POPULATION,
    doubling,
    excludes_one,
    factor_label,
    factor_rank,
    interval,
    own_effect_words,
    ratio,
)
from pipelines.reports.karten import MapFigure, ReportMaps, layer_key

EFFECTS = "mart_rollout_kommune_effekt"
TREIBER = "mart_rollout_treiber"
ATTRIBUTES = "seeds.kommune_merkmale"


def _ratio_text(row: Row | None) -> str:
    if row is None:
        return "–"
    if row["ist_referenz"]:
        return "Referenz (= 1)"
    if not row["geschaetzt"]:
        return str(row["hinweis"] or "–")
    text = f"{ratio(row['zeitverhaeltnis'])} ({interval(row['ki_unten'], row['ki_oben'])})"
    return text if excludes_one(row) else f"{text}, kein gesicherter Unterschied"


def _attribute_values(marts: PublishedMarts, ars: str, sample: bool) -> Row | None:
    """The Kommune's row of the seed (None: no row; a publication without the seed: {})."""
    present = marts.one(
        "select count(*) as n from information_schema.tables "
        "where table_schema = 'seeds' and table_name = 'kommune_merkmale'"
    )
    if not present or not present["n"]:
        return {}
    return marts.one(
        f"select * from {ATTRIBUTES} where ars = ? and coalesce(beispiel, false) = ?",
        [ars, sample],
    )


def _population_line(marts: PublishedMarts, stamm: Row, snapshot: date, row: Row) -> dict[str, str]:
    median = marts.one(
        "select median(bevoelkerung) as m, count(*) as n from marts.mart_verfuegbarkeit_kommune "
        "where snapshot_date = ? and land = ? and perspektive = 'traeger'",
        [snapshot, marts.land],
    ) or {"m": None, "n": 0}
    effect = (
        f"je Verdopplung {ratio(doubling(row['zeitverhaeltnis']))} "
        f"({interval(doubling(row['ki_unten']), doubling(row['ki_oben']))})"
        if row["geschaetzt"]
        else _ratio_text(row)
    )
    return {
        "faktor": POPULATION,
        "label": "Einwohner",
        "own": integer(stamm["bevoelkerung"]),
        "land": f"Median {integer(median['m'])} ({integer(median['n'])} Kommunen)",
        "effect": effect,
    }


def _characteristics(
    marts: PublishedMarts, stamm: Row, snapshot: date, drivers: list[Row], sample: bool
) -> list[dict[str, str]]:
    """One line per Kommune factor: this Kommune, the Land, the factor's time ratio."""
    by_factor: dict[str, list[Row]] = {}
    for row in drivers:
        if row["faktor_ebene"] == "Kommune":
            by_factor.setdefault(row["faktor"], []).append(row)
    attributes = _attribute_values(marts, stamm["ars"], sample)
    lines: list[dict[str, str]] = []
    for faktor in sorted(by_factor, key=factor_rank):
        levels = by_factor[faktor]
        if faktor == POPULATION:
            lines.append(_population_line(marts, stamm, snapshot, levels[0]))
            continue
        if faktor == "gebietstyp":
            own = str(stamm["gebietstyp"])
            mine = next((r for r in levels if r["auspraegung"] == own), None)
            land = f"{integer(mine['n_kommunen'] if mine else 0)} Kommunen dieses Typs"
        elif attributes == {} or (attributes and faktor not in attributes):
            continue  # the published seed does not hold this attribute
        elif len(levels) == 1 and not levels[0]["ist_referenz"]:  # a numeric attribute
            mine = levels[0]
            value = attributes.get(faktor) if attributes else None
            own = "kein Wert" if value is None else number(value, 2)
            land = "–"
        else:
            level = "ja" if attributes and attributes.get(faktor) else "nein"
            own = level + ("" if attributes else " (kein Eintrag)")
            mine = next((r for r in levels if r["auspraegung"] == level), None)
            yes = next((r for r in levels if r["auspraegung"] == "ja"), None)
            total = sum(int(r["n_kommunen"] or 0) for r in levels)
            land = f"{integer(yes['n_kommunen'] if yes else 0)} von {integer(total)} Kommunen: ja"
        lines.append(
            {
                "faktor": faktor,
                "label": factor_label(levels[0]),
                "own": own,
                "land": land,
                "effect": _ratio_text(mine),
            }
        )
    return lines


def own_effect_context(
    marts: PublishedMarts, ars: str, stamm: Row, snapshot: date, sample: bool
) -> dict[str, Any]:
    effect = marts.one(f"select * from marts.{EFFECTS} where ars = ?", [ars])
    drivers = marts.rows(f"select * from marts.{TREIBER} where land = ?", [marts.land])
    n_land = marts.one(f"select count(*) as n from marts.{EFFECTS} where land = ?", [marts.land])
    has_land = bool(n_land and n_land["n"])
    karte: MapFigure | None = None
    if has_land:
        karte = ReportMaps(marts, snapshot).figure(
            layer_key(stamm["kommunenart"]),
            "effekt",
            map_id="karte-effekt",
            highlight=[ars],
            highlight_label=f"{stamm['name']} (diese Kommune)",
            highlight_tag="diese Kommune",
        )
    if effect is None:
        reason = (
            "Für Hessen liegt noch keine Schätzung vor: Die Analyse braucht mehrere monatliche "
            "Stichtage mit Einführungen im Beobachtungsfenster (Seite Roll-out-Treiber)."
            if not has_land
            else "Für diese Kommune gibt es keine Schätzung: Sie hat keine Paare im Modell – "
            "keine Leistung in eigener Zuständigkeit, die erst im Beobachtungsfenster in Hessen "
            "online ging, oder nur Paare nicht schätzbarer Ausprägungen."
        )
        return {"effect": None, "reason": reason, "lines": [], "karte": karte}
    return {
        "effect": effect,
        "words": own_effect_words(effect),
        "reason": None,
        "lines": _characteristics(marts, stamm, snapshot, drivers, sample),
        "karte": karte,
    }
