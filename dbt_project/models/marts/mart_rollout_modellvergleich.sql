-- The two AFT models of the roll-out drivers side by side per Land (docs/metrics.md §6.16):
-- log-likelihood, AIC and which one the drivers and Kommune effects use (source
-- analysis.rollout_modelle).
with fenster as (
    select land, min(snapshot_date) as erster_stichtag, max(snapshot_date) as letzter_stichtag
    from {{ ref('int_kommunen') }}
    group by land
)
select
    m.land, m.modell, m.bevorzugt, m.log_likelihood, m.n_parameter, m.aic, m.delta_aic,
    m.sigma, m.n_paare, m.n_paare_modell, m.n_ereignisse_modell, m.n_kommunen, m.n_leistungen,
    m.n_cluster_kreis, m.n_cluster_leistung, m.sigma_innerhalb, m.tau_leistung, m.tau_kreis,
    m.tau_kommune, f.erster_stichtag, f.letzter_stichtag,
    '{{ var("definition_version") }}' as definition_version,
    m.sample
from {{ source('analysis', 'rollout_modelle') }} m
join fenster f using (land)
