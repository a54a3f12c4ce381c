"""Method page: how to read the reports, plus the metric dictionary of every mart they use.

All wording about metrics comes from the dbt documentation of the marts (and the
definition versions seed), so the page cannot drift from the numbers.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pipelines.reports.data import PublishedMarts
from pipelines.reports.labels import header
from pipelines.warehouse import column, definition_versions, mart_definitions

# Marts the pages and the workbook read, in reading order.
REPORT_MARTS = (
    "mart_pilotvergleich",
    "mart_verfuegbarkeit_kommune",
    "mart_peer_vergleich",
    "mart_prioritaeten_kommune",
    "mart_anschlussluecke",
    "mart_rollout_kommune_leistung",
    "mart_rollout_kommune",
    "mart_diffusion_leistung",
    "mart_zustaendigkeit_leistung",
    "mart_rollout_treiber",
    "mart_rollout_kommune_effekt",
    "mart_rollout_km",
    "mart_rollout_modellvergleich",
    "mart_datenqualitaet",
    "mart_abgleich_buergersicht",
)


def dictionary_rows(mart: str) -> list[dict[str, str]]:
    definition = mart_definitions()[mart]
    return [
        {
            "column": c.column,
            "header": header(c.column, mart),
            "description": c.description,
            "einheit": c.einheit,
            "formel": c.formel,
            "hinweis": c.hinweis,
            "begriff_en": c.begriff_en,
        }
        for c in definition.columns.values()
    ]


ZUSTAENDIGKEIT_MART = "mart_zustaendigkeit_leistung"
LAYER_ORDER = ("regel", "beobachtet", "typisierung", "nicht zugeordnet")


def competence_context(published: PublishedMarts, snapshot: date) -> dict[str, Any]:
    """How the Leistungen of the pilots' Land resolved at ``snapshot``: counts per layer
    and every Leistung "nicht zugeordnet" — never silently out of view."""
    counts = {
        r["zuordnung_quelle"]: r["n"]
        for r in published.rows(
            f"select zuordnung_quelle, count(*) as n from marts.{ZUSTAENDIGKEIT_MART} "
            "where snapshot_date = ? and land = ? group by all",
            [snapshot, published.land],
        )
    }
    unresolved = published.rows(
        "select leika_key, leika_name, ozg_id, typisierung, n_kommunen_eigen "
        f"from marts.{ZUSTAENDIGKEIT_MART} where snapshot_date = ? and land = ? "
        "and not zugeordnet order by n_kommunen_eigen desc, leika_key",
        [snapshot, published.land],
    )
    return {
        "layers": [(layer, counts.get(layer, 0)) for layer in LAYER_ORDER],
        "unresolved": unresolved,
        "schwelle": column(ZUSTAENDIGKEIT_MART, "schwelle"),
    }


def method_context(
    published: PublishedMarts | None = None, snapshot: date | None = None
) -> dict[str, Any]:
    marts = mart_definitions()
    competence = (
        competence_context(published, snapshot)
        if published is not None and snapshot is not None
        else None
    )
    return {
        "competence": competence,
        "versions": definition_versions(),
        "terms": [
            ("Anwendbare Leistungen", column("mart_peer_vergleich", "n_anwendbar")),
            ("Online", column("mart_peer_vergleich", "n_online")),
            ("Online-Quote", column("mart_peer_vergleich", "quote_online")),
            ("Perspektive", column("mart_peer_vergleich", "perspektive")),
            ("Vergleichsgruppe", column("mart_peer_vergleich", "peer_gruppe")),
            ("Median der Vergleichsgruppe", column("mart_peer_vergleich", "peer_median")),
            ("Hessen-Median", column("mart_pilotvergleich", "land_median")),
            ("Rang", column("mart_peer_vergleich", "rang_peer")),
            ("Anbieter-Zerlegung", column("mart_verfuegbarkeit_kommune", "anteil_eigen")),
            ("Prioritätenkorb", column("mart_prioritaeten_kommune", "quote_korb")),
            ("Anschlusslücke", column("mart_anschlussluecke", "anteil_peers_online")),
            ("Lücke seit", column("mart_anschlussluecke", "luecke_seit")),
            ("Referenzstart t0", column("mart_rollout_kommune_leistung", "t0_land")),
            ("Roll-out-Verzögerung", column("mart_rollout_kommune_leistung", "verzoegerung_tage")),
            (
                "In Verzögerungsstatistik",
                column("mart_rollout_kommune_leistung", "in_lag_statistik"),
            ),
            ("Zeitverhältnis", column("mart_rollout_treiber", "zeitverhaeltnis")),
            ("Eigener Roll-out-Effekt", column("mart_rollout_kommune_effekt", "zeitverhaeltnis")),
            ("Alter des Datenstands", column("mart_datenqualitaet", "alter_datenstand_tage")),
        ],
        "marts": [
            {"name": m, "description": marts[m].description, "rows": dictionary_rows(m)}
            for m in REPORT_MARTS
            if m in marts
        ],
        "gap_mart": marts["mart_anschlussluecke"].description,
    }
