-- Diffusion curve per Leistung in the Land: share of competent/served Kommunen with the
-- Leistung online at each snapshot, and the share that ever had it (metrics.md §6.7).
with paare as (
    select p.snapshot_date, p.ars, p.leika_key, p.online
    from {{ ref('int_verfuegbarkeit_paare') }} p
    join {{ ref('int_kommunen') }} k on k.snapshot_date = p.snapshot_date and k.ars = p.ars
    where (k.kommunenart = 'Gemeinde' and p.buerger) or (k.kommunenart = 'Landkreis' and p.traeger)
),
jemals as (
    select *, bool_or(online) over (
        partition by ars, leika_key order by snapshot_date rows unbounded preceding
    ) as bisher_online
    from paare
)
select
    snapshot_date,
    leika_key,
    count(*) as n_kommunen,
    count(*) filter (where online) as n_online,
    count(*) filter (where online)::double / count(*) as anteil_online,
    count(*) filter (where bisher_online)::double / count(*) as anteil_jemals_online,
    '{{ var("definition_version") }}' as definition_version,
    bool_or(true) filter (where true) and (select bool_and(sample) from {{ ref('int_kommunen') }})
        as sample
from jemals
group by all
