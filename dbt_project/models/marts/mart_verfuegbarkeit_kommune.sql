-- Availability per Kommune × snapshot × perspective
-- (docs/metrics.md §6.2, §6.10, §6.11, §6.13).
with paare as (
    select snapshot_date, ars, 'traeger' as perspektive, leika_key, online, anbieter, url
    from {{ ref('int_verfuegbarkeit_paare') }} where traeger
    union all
    select snapshot_date, ars, 'buerger', leika_key, online, anbieter, url
    from {{ ref('int_verfuegbarkeit_paare') }} where buerger
),
counts as (
    select
        snapshot_date, ars, perspektive,
        count(*) as n_anwendbar,
        count(*) filter (where online) as n_online,
        count(*) filter (where anbieter = 'eigen') as n_online_eigen,
        count(*) filter (where anbieter = 'kreis') as n_online_kreis,
        count(*) filter (where anbieter = 'land') as n_online_land,
        count(*) filter (where anbieter = 'bund') as n_online_bund,
        count(distinct url) filter (where online) as n_onlinedienste
    from paare
    group by snapshot_date, ars, perspektive
),
ddv as (
    -- DDV-style count: every Leistung online in the citizen view, no applicability filter.
    select snapshot_date, ars, count(*) as n_online_ohne_zustaendigkeit
    from {{ ref('int_buergersicht') }}
    group by snapshot_date, ars
),
stand as (
    -- Latest Datenstand of the Land's delivery (its partition, the Bund's queries included).
    select snapshot_date, land, datenstand as as_of
    from {{ ref('stg_lake_partitionen') }} where tabelle = 'verfuegbarkeit'
)
select
    c.snapshot_date,
    k.land,
    s.as_of,
    c.ars,
    k.name,
    k.kommunenart,
    k.gebietstyp,
    k.kreis_ars,
    k.kreis_name,
    k.bevoelkerung,
    k.groessenklasse_bezeichnung as groessenklasse,
    k.peer_gruppe,
    k.ist_pilot,
    c.perspektive,
    c.n_anwendbar,
    c.n_online,
    cast(c.n_online as double precision) / nullif(c.n_anwendbar, 0) as quote_online,
    c.n_online_eigen,
    c.n_online_kreis,
    c.n_online_land,
    c.n_online_bund,
    cast(c.n_online_eigen as double precision) / nullif(c.n_online, 0) as anteil_eigen,
    cast(c.n_online_kreis as double precision) / nullif(c.n_online, 0) as anteil_kreis,
    cast(c.n_online_land as double precision) / nullif(c.n_online, 0) as anteil_land,
    cast(c.n_online_bund as double precision) / nullif(c.n_online, 0) as anteil_bund,
    c.n_onlinedienste,
    cast(c.n_online as double precision) / nullif(c.n_onlinedienste, 0) as mapping_ratio,
    coalesce(d.n_online_ohne_zustaendigkeit, 0) as n_online_ohne_zustaendigkeit,
    '{{ var("definition_version") }}' as definition_version,
    k.sample
from counts c
join {{ ref('int_kommunen') }} k on k.snapshot_date = c.snapshot_date and k.ars = c.ars
left join ddv d on d.snapshot_date = c.snapshot_date and d.ars = c.ars
left join stand s on s.snapshot_date = c.snapshot_date and s.land = k.land
