-- The six pilots side by side with their peer-group and Hessen medians, per snapshot and
-- perspective; Hessen median over Kommunen of the same Kommunenart (the pilots' own Land:
-- land_median of mart_peer_vergleich, which never mixes Länder).
with peer as (
    select * from {{ ref('mart_peer_vergleich') }}
),
korb as (
    select distinct snapshot_date, ars, n_anwendbar_korb, n_online_korb, quote_korb
    from {{ ref('mart_prioritaeten_kommune') }} where korb = 'HE-2026'
),
luecken as (
    select snapshot_date, ars, count(*) as n_luecken
    from {{ ref('mart_anschlussluecke') }}
    group by snapshot_date, ars
)
select
    p.snapshot_date, p.land, p.as_of, p.ars, p.name, p.kommunenart, p.gebietstyp, p.peer_gruppe,
    p.perspektive, p.n_anwendbar, p.n_online, p.quote_online,
    p.peer_n, p.peer_median, p.land_n, p.land_median,
    p.perzentil_peer, p.z_peer, p.rang_peer, p.rang_land,
    p.quote_online - p.peer_median as abstand_peer_median,
    p.quote_online - p.land_median as abstand_land_median,
    k.n_anwendbar_korb, k.n_online_korb, k.quote_korb,
    coalesce(l.n_luecken, 0) as n_luecken,
    p.definition_version, p.sample
from peer p
left join korb k on k.snapshot_date = p.snapshot_date and k.ars = p.ars
left join luecken l on l.snapshot_date = p.snapshot_date and l.ars = p.ars
where p.ist_pilot
