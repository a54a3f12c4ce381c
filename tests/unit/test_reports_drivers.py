"""The roll-out drivers' report pieces without a pipeline run: the plain-words sentences of a
mart row, the forest plot and the Kaplan–Meier chart, and the reversed effect scale."""

from __future__ import annotations

import math
import re
from typing import Any

from pipelines.reports import charts, maps
from pipelines.reports.driver_text import doubling, own_effect_words, sentence
from pipelines.reports.karten import EFFECT_MART, MEASURES
from pipelines.reports.treiber import ordered_drivers, strongest_factors


def driver(faktor: str, auspraegung: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "faktor": faktor,
        "faktor_bezeichnung": faktor,
        "faktor_ebene": "Leistung",
        "auspraegung": auspraegung,
        "referenz": None,
        "ist_referenz": False,
        "geschaetzt": True,
        "zeitverhaeltnis": None,
        "ki_unten": None,
        "ki_oben": None,
        "koeffizient": None,
        "hinweis": None,
        "n_paare": 100,
        "n_ereignisse": 50,
        "n_kommunen": 40,
        "n_leistungen": 12,
    }
    return row | values


def test_a_time_ratio_reads_as_a_share_of_the_reference_time() -> None:
    row = driver(
        "plattform",
        "civento (ekom21)",
        referenz="keine",
        zeitverhaeltnis=0.6497,
        ki_unten=0.513,
        ki_oben=0.823,
    )
    text = sentence(row).text.replace("\u00a0", " ")
    assert text.startswith(
        "Leistungen auf der Landesplattform civento (ekom21) sind bei sonst gleichen Faktoren "
        "im Median nach 65 % der Zeit online, die Leistungen ohne Landesplattform brauchen "
        "(95-%-Intervall 51 % bis 82 %)."
    )
    assert "kein gesicherter Unterschied" not in text
    wide = sentence(row | {"ki_oben": 1.2}).text
    assert "Das Intervall schließt 1 ein" in wide


def test_a_level_without_estimate_says_why_instead_of_a_number() -> None:
    row = driver(
        "prioritaetenkorb",
        "HE-2026",
        referenz="kein Korb",
        geschaetzt=False,
        hinweis="zu wenige Beobachtungen",
        n_ereignisse=82,
        n_leistungen=3,
    )
    said = sentence(row)
    assert not said.estimated
    assert said.text == (
        "Leistungen im Prioritätenkorb HE-2026: zu wenige Beobachtungen (82 Einführungen, "
        "3 Leistungen) – keine Schätzung."
    )


def test_population_reads_per_doubling() -> None:
    beta = -0.212
    row = driver(
        "bevoelkerung",
        "ln(Einwohner) +1",
        faktor_ebene="Kommune",
        zeitverhaeltnis=math.exp(beta),
        ki_unten=math.exp(-0.347),
        ki_oben=math.exp(-0.077),
        koeffizient=beta,
    )
    assert doubling(math.exp(beta)) == 2**beta
    text = sentence(row).text.replace("\u00a0", " ")
    assert text.startswith("Eine doppelt so große Kommune braucht")
    assert f"{2**beta * 100:.0f} % der Zeit" in text
    assert "Elastizität −0,21" in text


def test_own_effect_words() -> None:
    effect = {"zeitverhaeltnis": 1.78, "ki_unten": 1.27, "ki_oben": 2.48}
    text = own_effect_words(effect | {"einordnung": "langsamer als erwartet"})
    assert "das 1,8-Fache der Zeit" in text and "1,27–2,48" in text
    fast = own_effect_words(
        {"zeitverhaeltnis": 0.7, "ki_unten": 0.6, "ki_oben": 0.8, "einordnung": "schneller"}
    )
    assert "70\u00a0% der Zeit" in fast


def test_drivers_order_and_the_strongest_factors() -> None:
    rows = ordered_drivers(
        [
            driver("plattform", "civento", zeitverhaeltnis=0.65, ki_unten=0.5, ki_oben=0.8),
            driver("plattform", "keine", ist_referenz=True, geschaetzt=False, n_paare=50),
            driver("bevoelkerung", "ln", zeitverhaeltnis=0.5, ki_unten=0.4, ki_oben=0.6),
            driver("ikz_verbund", "ja", zeitverhaeltnis=0.8, ki_unten=0.7, ki_oben=0.9),
            driver("gebietstyp", "Landkreis", zeitverhaeltnis=0.4, ki_unten=0.2, ki_oben=1.3),
        ]
    )
    assert [(r["faktor"], r["auspraegung"]) for r in rows] == [
        ("bevoelkerung", "ln"),
        ("gebietstyp", "Landkreis"),
        ("plattform", "keine"),
        ("plattform", "civento"),
        ("ikz_verbund", "ja"),
    ]
    # bevoelkerung has no curves; the Landkreis interval includes 1.
    curves = {"plattform", "ikz_verbund", "gebietstyp"}
    assert strongest_factors(rows, curves) == ["plattform", "ikz_verbund"]


def test_forest_plot_draws_one_row_per_level_on_a_log_axis_marked_at_one() -> None:
    rows = [
        charts.ForestRow("keine", None, None, None, "Referenz (= 1)", {"faktor": "p"}, "P"),
        charts.ForestRow("civento", 0.5, 0.25, 1.0, "0,50", {"faktor": "p"}),
        charts.ForestRow("x", 2.0, 1.5, 40.0, "2,00", {"faktor": "q"}, "Q"),
    ]
    svg = str(charts.forest_plot(rows, chart_id="f", title="t", description="d"))
    assert svg.count('<g class="zeile"') == 3
    assert svg.count('class="eins"') == 1 and "1 = kein Unterschied" in svg
    assert svg.count('class="schaetzung"') == 2
    one = float(re.findall(r'class="eins" x1="([\d.]+)"', svg)[0])
    half, double = (float(x) + 5.5 for x in re.findall(r'class="schaetzung" x="([\d.]+)"', svg))
    assert math.isclose(one - half, double - one, abs_tol=0.2)  # 0.5 and 2 mirror about 1
    assert "<polygon" in svg  # the interval beyond the axis ends in an arrow


def test_step_chart_has_one_curve_per_series() -> None:
    svg = str(
        charts.step_chart(
            [charts.StepSeries("a", [(0, 0.1), (1, 0.5)]), charts.StepSeries("b", [(0, 0.2)])],
            chart_id="km",
            title="t",
            description="d",
            x_label="Monate",
        )
    )
    assert svg.count('class="kurve"') == 2 and 'role="img"' in svg and "<desc" in svg


def test_the_effect_map_is_centred_at_one_with_orange_for_slower() -> None:
    spec = MEASURES["effekt"]
    assert spec.mart == EFFECT_MART and spec.column == "zeitverhaeltnis"
    scale = spec.scale([0.8, 0.95, 1.0, 1.1, 1.3], spec.title)
    assert scale.unit == "faktor" and scale.klass(1.0) == 3
    assert scale.colour(1.0) == "#f7f7f7"
    assert scale.colours == maps.DIVERGING[3][::-1]
    assert scale.colour(5.0) == maps.DIVERGING[3][0]  # orange: slower than expected
    assert scale.colour(0.01) == maps.DIVERGING[3][-1]  # purple: faster
