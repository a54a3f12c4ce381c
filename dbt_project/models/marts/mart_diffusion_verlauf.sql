-- Diffusion curve per Leistung in each Land: share of competent/served Kommunen with the
-- Leistung online at each snapshot, and the share that ever had it (docs/metrics.md §6.7).
with paare as (
    select p.snapshot_date, k.land, p.ars, p.leika_key, p.online
    from {{ ref('int_verfuegbarkeit_paare') }} p
    join {{ ref('int_kommunen') }} k on k.snapshot_date = p.snapshot_date and k.ars = p.ars
    where (k.kommunenart = 'Gemeinde' and p.buerger) or (k.kommunenart = 'Landkreis' and p.traeger)
),
jemals as (
    select *, bool_or(online) over (
        partition by ars, leika_key order by snapshot_date rows unbounded preceding
    ) as bisher_online
    from paare
),
laender as (
    select land, bool_and(sample) as sample from {{ ref('int_kommunen') }} group by land
)
select
    j.snapshot_date,
    j.land,
    j.leika_key,
    count(*) as n_kommunen,
    count(*) filter (where j.online) as n_online,
    cast(count(*) filter (where j.online) as double precision) / count(*) as anteil_online,
    cast(count(*) filter (where j.bisher_online) as double precision) / count(*)
        as anteil_jemals_online,
    '{{ var("definition_version") }}' as definition_version,
    bool_and(l.sample) as sample  -- one row of laender per group
from jemals j
join laender l using (land)
group by j.snapshot_date, j.land, j.leika_key
