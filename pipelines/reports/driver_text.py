"""Plain German words for the roll-out drivers (docs/metrics.md §6.16): what a row of the
drivers' time ratios says in one sentence, and how a Kommune's own effect reads. Used by the drivers
page (``treiber.py``) and the Steckbrief; every number comes from the mart row it describes.

A time ratio r of a level says: pairs of this level take r times the time of the reference
level, everything else in the model equal — "nach 65 % der Zeit". Only the population
factor is turned into a different unit: per doubling of the population, 2^β (the mart
column's documented reading, ``koeffizient`` = β), its interval with the same power.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipelines.html.formatting import integer, number, percent
from pipelines.reports.data import Row

TOO_FEW = "zu wenige Beobachtungen"
REFERENCE = "Referenz"
POPULATION = "bevoelkerung"
MODEL_NAMES = {"lognormal_aft": "log-normales Modell", "weibull_aft": "Weibull-Modell"}

# Factors in reading order; attributes of the seed kommune_merkmale follow by name.
FACTOR_ORDER = (
    "bevoelkerung",
    "gebietstyp",
    "leistungsebene",
    "anbieter",
    "plattform",
    "prioritaetenkorb",
)
# German labels of the attribute columns of the seed kommune_merkmale (the mart's
# faktor_bezeichnung is the column name); others show the column name.
ATTRIBUTE_LABELS = {
    "ikz_verbund": "IKZ-Verbund (interkommunale Zusammenarbeit)",
    "digitalisierungsberatung": "Digitalisierungsberatung des Landes genutzt",
}
# Who the pairs of a level are, as the subject of "… sind im Median nach x % der Zeit
# online" and of "…, die <reference> brauchen".
GEBIETSTYP_DATIVE = {
    "kreisangehörige Gemeinde": "kreisangehörigen Gemeinden",
    "kreisangehörige Stadt": "kreisangehörigen Städten",
    "Sonderstatusstadt": "Sonderstatusstädten",
    "kreisfreie Stadt": "kreisfreien Städten",
    "Landkreis": "Landkreisen",
}
ANBIETER_WORDS = {
    "eigen": "mit eigenem Eintrag der Kommune",
    "Kreis": "mit Eintrag über den Kreis",
    "Land": "mit Eintrag über das Land",
    "Bund/EfA": "mit Eintrag über den Bund (EfA)",
}
ATTRIBUTE_WORDS = {
    ("ikz_verbund", "ja"): "in Kommunen eines IKZ-Verbunds",
    ("ikz_verbund", "nein"): "in Kommunen ohne IKZ-Verbund",
    ("digitalisierungsberatung", "ja"): "in Kommunen mit Digitalisierungsberatung",
    ("digitalisierungsberatung", "nein"): "in Kommunen ohne Digitalisierungsberatung",
}


def factor_label(row: Row) -> str:
    """The factor's German name (the mart's, or a label for a seed attribute)."""
    faktor = str(row["faktor"])
    if faktor in ATTRIBUTE_LABELS:
        return ATTRIBUTE_LABELS[faktor]
    label = row.get("faktor_bezeichnung") or faktor
    return str(label).replace("_", " ") if label == faktor else str(label)


def factor_rank(faktor: str) -> tuple[int, str]:
    return (FACTOR_ORDER.index(faktor) if faktor in FACTOR_ORDER else len(FACTOR_ORDER), faktor)


def level_words(faktor: str, level: str | None) -> str:
    """'Leistungen auf der Landesplattform civento (ekom21)' and the like."""
    value = level or ""
    if faktor == "gebietstyp":
        return f"Leistungen in {GEBIETSTYP_DATIVE.get(value, f'Kommunen des Typs „{value}“')}"
    if faktor == "leistungsebene":
        return f"Leistungen der {value}"
    if faktor == "anbieter":
        return f"Leistungen {ANBIETER_WORDS.get(value, f'mit Anbieter „{value}“')}"
    if faktor == "plattform":
        if value == "keine":
            return "Leistungen ohne Landesplattform"
        return f"Leistungen auf der Landesplattform {value}"
    if faktor == "prioritaetenkorb":
        if value == "kein Korb":
            return "Leistungen außerhalb des Prioritätenkorbs"
        return f"Leistungen im Prioritätenkorb {value}"
    if (faktor, value) in ATTRIBUTE_WORDS:
        return f"Leistungen {ATTRIBUTE_WORDS[(faktor, value)]}"
    return f"Leistungen in Kommunen mit {faktor.replace('_', ' ')} = {value}"


def ratio(value: float | None) -> str:
    return number(value, 2)


def interval(low: float | None, high: float | None) -> str:
    return f"{ratio(low)}–{ratio(high)}"


def excludes_one(row: Row) -> bool:
    low, high = row.get("ki_unten"), row.get("ki_oben")
    return low is not None and high is not None and (low > 1 or high < 1)


def doubling(value: float | None) -> float | None:
    """A ratio per unit of ln(population) as the ratio per doubling: r^ln 2 = 2^β."""
    return None if value is None else value ** math.log(2)


@dataclass(frozen=True)
class Sentence:
    faktor: str
    auspraegung: str
    text: str
    estimated: bool


def counted(n: int | None, one: str, many: str) -> str:
    """'1 Leistung', '3 Leistungen'."""
    return f"{integer(n)} {one if n == 1 else many}"


def unit_counts(row: Row) -> str:
    """The units behind a level, by the factor's dimension."""
    ebene = row.get("faktor_ebene")
    kommunen = counted(row["n_kommunen"], "Kommune", "Kommunen")
    leistungen = counted(row["n_leistungen"], "Leistung", "Leistungen")
    if ebene == "Kommune":
        return kommunen
    if ebene == "Leistung":
        return leistungen
    return f"{kommunen}, {leistungen}"


def sentence(row: Row) -> Sentence:
    """One sentence for a non-reference row of the drivers (a level against its reference)."""
    faktor, level = str(row["faktor"]), str(row["auspraegung"])
    counts = f"{counted(row['n_ereignisse'], 'Einführung', 'Einführungen')}, {unit_counts(row)}"
    if not row["geschaetzt"]:
        subject = "Einwohnerzahl" if faktor == POPULATION else level_words(faktor, level)
        note = row.get("hinweis") or TOO_FEW
        return Sentence(faktor, level, f"{subject}: {note} ({counts}) – keine Schätzung.", False)
    value, low, high = row["zeitverhaeltnis"], row["ki_unten"], row["ki_oben"]
    if faktor == POPULATION:
        beta = row["koeffizient"]
        text = (
            "Eine doppelt so große Kommune braucht bei sonst gleichen Faktoren im Median "
            f"{percent(doubling(value), 0)} der Zeit bis zur Einführung (95-%-Intervall "
            f"{percent(doubling(low), 0)} bis {percent(doubling(high), 0)}; Elastizität "
            f"{number(beta, 2)}: 1 % mehr Einwohner, {number(abs(beta), 2)} % "
            f"{'weniger' if beta < 0 else 'mehr'} Zeit)."
        )
    else:
        reference = level_words(faktor, row.get("referenz"))
        reference = reference.removeprefix("Leistungen ").strip()
        text = (
            f"{level_words(faktor, level)} sind bei sonst gleichen Faktoren im Median nach "
            f"{percent(value, 0)} der Zeit online, die Leistungen {reference} brauchen "
            f"(95-%-Intervall {percent(low, 0)} bis {percent(high, 0)})."
        )
    if not excludes_one(row):
        text += " Das Intervall schließt 1 ein: kein gesicherter Unterschied."
    text += f" Grundlage: {counts}."
    return Sentence(faktor, level, text, True)


def own_effect_words(effect: Row, subject: str = "Diese Kommune") -> str:
    """How a Kommune's own effect reads: '… braucht das 1,8-Fache der Zeit …'."""
    value = effect["zeitverhaeltnis"]
    share = (
        f"das {number(value, 1)}-Fache der Zeit"
        if value >= 1.05
        else f"{percent(value, 0)} der Zeit"
    )
    return (
        f"{subject} braucht bis zur Einführung ihrer Leistungen im Median {share}, die "
        "ihre Merkmale, die Schwierigkeit ihrer Leistungen und ihr Kreis erwarten lassen "
        f"(Zeitverhältnis {ratio(value)}, 95-%-Intervall "
        f"{interval(effect['ki_unten'], effect['ki_oben'])}): {effect['einordnung']}."
    )
