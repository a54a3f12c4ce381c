-- Competence per Land × snapshot × Leistung as the model resolved it (int_leistung_zustaendigkeit):
-- the competent Gebietstypen, the layer that decided (regel / beobachtet / typisierung /
-- nicht zugeordnet), the rule or the observed shares behind it. Unresolved Leistungen are
-- listed here, so that method page and data-quality report can show them.
select
    z.snapshot_date,
    z.land,
    z.leika_key,
    z.leika_name,
    z.ozg_id,
    z.typisierung,
    z.zuordnung_quelle,
    z.zugeordnet,
    z.regel_id,
    z.kreisangehoerige_gemeinde,
    z.kreisangehoerige_stadt,
    z.sonderstatusstadt,
    z.kreisfreie_stadt,
    z.landkreis,
    z.land_zustaendig,
    z.bund_zustaendig,
    z.beobachtete_ebene,
    z.beobachtung_basis,
    z.konfidenz,
    z.n_kommunen_eigen,
    z.anteil_kreisangehoerig,
    z.anteil_kreisangehoerige_gemeinde,
    z.anteil_kreisangehoerige_stadt,
    z.anteil_sonderstatusstadt,
    z.anteil_kreisfreie_stadt,
    z.anteil_landkreis,
    z.ozg_anteil_kreisangehoerig,
    z.ozg_anteil_landkreis,
    z.eintrag_land,
    z.eintrag_bund,
    cast({{ var('zustaendigkeit_schwelle') }} as double precision) as schwelle,
    '{{ var("definition_version") }}' as definition_version,
    z.sample
from {{ ref('int_leistung_zustaendigkeit') }} z
