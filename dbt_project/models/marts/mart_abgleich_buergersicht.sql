-- Check of the citizen-view inheritance: for the ARS pulled with includeAbove=true (the
-- pilots by default) compare the Leistungen online in the API's own citizen view with our
-- reconstruction from own entries (Kommune + Kreis + Land + Bund).
with api as (
    select distinct snapshot_date, query_ars as ars, leika_key
    from {{ ref('stg_verfuegbarkeit') }}
    where query_scope = 'above' and eintrag_online
),
rekonstruiert as (
    select b.snapshot_date, b.ars, b.leika_key
    from {{ ref('int_buergersicht') }} b
    where b.ars in (select distinct ars from api)
),
vergleich as (
    select coalesce(a.snapshot_date, r.snapshot_date) as snapshot_date,
           coalesce(a.ars, r.ars) as ars,
           a.leika_key is not null as in_api, r.leika_key is not null as in_rekonstruktion
    from api a
    full outer join rekonstruiert r
        on r.snapshot_date = a.snapshot_date and r.ars = a.ars and r.leika_key = a.leika_key
)
select
    v.snapshot_date, k.land, v.ars, k.name,
    count(*) filter (where v.in_api) as n_online_api,
    count(*) filter (where v.in_rekonstruktion) as n_online_rekonstruiert,
    count(*) filter (where v.in_api and not v.in_rekonstruktion) as n_nur_api,
    count(*) filter (where v.in_rekonstruktion and not v.in_api) as n_nur_rekonstruiert,
    '{{ var("definition_version") }}' as definition_version,
    k.sample
from vergleich v
join {{ ref('int_kommunen') }} k on k.snapshot_date = v.snapshot_date and k.ars = v.ars
group by v.snapshot_date, k.land, v.ars, k.name, k.sample
