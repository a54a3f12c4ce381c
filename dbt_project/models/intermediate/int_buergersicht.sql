-- Citizen view (docs/metrics.md §6.0): what residents of a Kommune can use online — its own
-- entries, its Kreis's (if different), the Land's and the Bund's. For each Leistung the
-- closest provider counts (eigen < kreis < land < bund).
with kommunen as (
    select * from {{ ref('int_kommunen') }}
),
anbieter as (
    select snapshot_date, ars, ars as anbieter_ars, 1 as rang from kommunen
    union all
    select snapshot_date, ars, kreis_ars, 2 from kommunen where kreis_ars <> ars
    union all
    select snapshot_date, ars, land_ars, 3 from kommunen
    union all
    select snapshot_date, ars, '000000000000', 4 from kommunen
),
matched as (
    select a.snapshot_date, a.ars, e.leika_key, a.rang, a.anbieter_ars, e.url
    from anbieter a
    join {{ ref('int_online_eintraege') }} e
        on e.snapshot_date = a.snapshot_date and e.anbieter_ars = a.anbieter_ars
)
select
    snapshot_date, ars, leika_key,
    min(rang) as anbieter_rang,
    case min(rang) when 1 then 'eigen' when 2 then 'kreis' when 3 then 'land' else 'bund' end
        as anbieter,
    -- rang is unique within the group: one provider per level.
    {{ arg_min('anbieter_ars', 'rang') }} as anbieter_ars,
    {{ arg_min('url', 'rang') }} as url
from matched
group by snapshot_date, ars, leika_key
