-- Kaplan–Meier curves of the time from t0 to adoption per factor level (docs/metrics.md
-- §6.16), for the charts: from the analysis step (source analysis.rollout_km).
with fenster as (
    select land, min(snapshot_date) as erster_stichtag, max(snapshot_date) as letzter_stichtag
    from {{ ref('int_kommunen') }}
    group by land
)
select
    k.land, k.faktor, k.faktor_bezeichnung, k.auspraegung, k.monate_seit_t0,
    k.anteil_ausstehend, k.anteil_eingefuehrt, k.ki_unten, k.ki_oben, k.n_risiko,
    k.n_ereignisse, k.n_zensiert, k.n_paare, f.erster_stichtag, f.letzter_stichtag,
    '{{ var("definition_version") }}' as definition_version,
    k.sample
from {{ source('analysis', 'rollout_km') }} k
join fenster f using (land)
