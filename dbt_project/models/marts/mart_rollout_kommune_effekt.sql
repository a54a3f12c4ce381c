-- Own roll-out speed per Kommune against what its factors, its Leistungen and its Kreis let
-- expect (docs/metrics.md §6.16), from the analysis step (source analysis.rollout_kommune_effekt).
with fenster as (
    select land, min(snapshot_date) as erster_stichtag, max(snapshot_date) as letzter_stichtag
    from {{ ref('int_kommunen') }}
    group by land
)
select
    e.land, e.ars, e.name, e.kommunenart, e.gebietstyp, e.kreis_ars, e.zeitverhaeltnis,
    e.ki_unten, e.ki_oben, e.rang, e.n_kommunen_land, e.einordnung, e.zeitverhaeltnis_kreis,
    e.zeitverhaeltnis_gesamt, e.n_paare, e.n_ereignisse, e.n_ereignisse_erwartet, e.modell,
    f.erster_stichtag, f.letzter_stichtag,
    '{{ var("definition_version") }}' as definition_version,
    e.sample
from {{ source('analysis', 'rollout_kommune_effekt') }} e
join fenster f using (land)
