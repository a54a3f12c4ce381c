-- Priority-basket status per Kommune (docs/metrics.md §6.3): each basket item with whether it
-- applies to the Kommune and is online ("any key" rule), plus the basket rate.
with korb as (
    select * from {{ ref('priority_baskets') }}
),
kommunen as (
    select * from {{ ref('int_kommunen') }}
),
relevant as (
    -- Gemeinden are judged in the citizen view, Landkreise in the Träger view.
    select p.snapshot_date, p.ars, p.leika_key, p.online
    from {{ ref('int_verfuegbarkeit_paare') }} p
    join kommunen k on k.snapshot_date = p.snapshot_date and k.ars = p.ars
    where p.leika_key in (select leika_key from korb)
      and case k.kommunenart when 'Gemeinde' then p.buerger else p.traeger end
),
status as (
    select
        k.snapshot_date, k.ars, b.korb, b.position, b.bezeichnung,
        string_agg(b.leika_key, ';' order by b.leika_key) as leika_keys,
        bool_or(p.leika_key is not null) as anwendbar,
        bool_or(coalesce(p.online, false)) as online,
        bool_and(b.beispiel) as zuordnung_beispiel
    from kommunen k
    cross join korb b
    left join relevant p
        on p.snapshot_date = k.snapshot_date and p.ars = k.ars and p.leika_key = b.leika_key
    group by k.snapshot_date, k.ars, b.korb, b.position, b.bezeichnung
)
select
    s.snapshot_date, k.land, s.ars, k.name, k.kommunenart, k.ist_pilot, s.korb, s.position,
    s.bezeichnung, s.leika_keys, s.anwendbar, s.online,
    count(*) filter (where s.anwendbar) over korb_kommune as n_anwendbar_korb,
    count(*) filter (where s.anwendbar and s.online) over korb_kommune as n_online_korb,
    cast(count(*) filter (where s.anwendbar and s.online) over korb_kommune as double precision)
        / nullif(count(*) filter (where s.anwendbar) over korb_kommune, 0) as quote_korb,
    s.zuordnung_beispiel,
    '{{ var("definition_version") }}' as definition_version,
    k.sample
from status s
join kommunen k on k.snapshot_date = s.snapshot_date and k.ars = s.ars
window korb_kommune as (partition by s.snapshot_date, s.ars, s.korb)
