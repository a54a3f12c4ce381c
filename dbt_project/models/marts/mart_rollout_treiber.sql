-- Roll-out drivers (docs/metrics.md §6.16): per Land × factor × level the time ratio exp(β)
-- of the interval-censored AFT model with its two-way cluster-robust 95 % interval, from the
-- analysis step (pipelines/analysis, source analysis.rollout_treiber). The window is the
-- Land's (int_kommunen).
with fenster as (
    select land, min(snapshot_date) as erster_stichtag, max(snapshot_date) as letzter_stichtag
    from {{ ref('int_kommunen') }}
    group by land
)
select
    t.land, t.faktor, t.faktor_bezeichnung, t.faktor_ebene, t.auspraegung, t.referenz,
    t.ist_referenz, t.geschaetzt, t.zeitverhaeltnis, t.ki_unten, t.ki_oben, t.koeffizient,
    t.standardfehler, t.p_wert, t.zeitverhaeltnis_vergleichsmodell, t.n_paare, t.n_ereignisse,
    t.n_kommunen, t.n_leistungen, t.hinweis, t.modell, t.vergleichsmodell,
    f.erster_stichtag, f.letzter_stichtag,
    '{{ var("definition_version") }}' as definition_version,
    t.sample
from {{ source('analysis', 'rollout_treiber') }} t
join fenster f using (land)
