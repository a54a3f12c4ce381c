-- Where each Kommune stands among fair peers (Land × Gebietstyp × Größenklasse) and in its
-- own Land (same Kommunenart), per snapshot and perspective (docs/metrics.md §6.9). Every window
-- is partitioned by the Land: Länder are never compared with each other. The medians are
-- aggregated per group and joined back (macro median: no window function on PostgreSQL; a
-- peer group is null when a Kommune has no Größenklasse, hence "is not distinct from").
with basis as (
    select * from {{ ref('mart_verfuegbarkeit_kommune') }} where quote_online is not null
),
peer_medianen as (
    select snapshot_date, land, perspektive, peer_gruppe,
           {{ median('quote_online') }} as peer_median
    from basis
    group by snapshot_date, land, perspektive, peer_gruppe
),
land_medianen as (
    select snapshot_date, land, perspektive, kommunenart,
           {{ median('quote_online') }} as land_median
    from basis
    group by snapshot_date, land, perspektive, kommunenart
),
stats as (
    select
        *,
        count(*) over peer as peer_n,
        avg(quote_online) over peer_fest as peer_mittel,
        stddev_samp(quote_online) over peer_fest as peer_sd,
        percent_rank() over (peer order by quote_online) as perzentil_peer,
        rank() over (peer order by quote_online desc) as rang_peer,
        count(*) over im_land as land_n,
        percent_rank() over (im_land order by quote_online) as perzentil_land,
        rank() over (im_land order by quote_online desc) as rang_land
    from basis
    window
        peer as (partition by snapshot_date, land, perspektive, peer_gruppe),
        -- Floating-point sums in a fixed order (by ARS): the same group gives bit-identical
        -- figures whatever else (other Länder, row order on disk) the warehouse holds.
        peer_fest as (peer order by ars rows between unbounded preceding and unbounded following),
        im_land as (partition by snapshot_date, land, perspektive, kommunenart)
)
select
    s.snapshot_date, s.land, s.as_of, s.ars, s.name, s.kommunenart, s.gebietstyp,
    s.peer_gruppe, s.ist_pilot, s.perspektive, s.n_anwendbar, s.n_online, s.quote_online,
    s.peer_n, p.peer_median, s.peer_mittel, s.peer_sd,
    s.perzentil_peer,
    case when s.peer_n >= 5 and s.peer_sd > 0
         then (s.quote_online - s.peer_mittel) / s.peer_sd end as z_peer,
    s.rang_peer,
    s.quote_online - p.peer_median as abstand_peer_median,
    s.land_n, l.land_median, s.perzentil_land, s.rang_land,
    s.definition_version, s.sample
from stats s
join peer_medianen p
    on p.snapshot_date = s.snapshot_date and p.land = s.land
   and p.perspektive = s.perspektive and p.peer_gruppe is not distinct from s.peer_gruppe
join land_medianen l
    on l.snapshot_date = s.snapshot_date and l.land = s.land
   and l.perspektive = s.perspektive and l.kommunenart = s.kommunenart
