-- Where each Kommune stands among fair peers (Land × Gebietstyp × Größenklasse) and in its
-- own Land (same Kommunenart), per snapshot and perspective (docs/metrics.md §6.9). Every window
-- is partitioned by the Land: Länder are never compared with each other.
with basis as (
    select * from {{ ref('mart_verfuegbarkeit_kommune') }} where quote_online is not null
),
stats as (
    select
        *,
        count(*) over peer as peer_n,
        median(quote_online) over peer as peer_median,
        avg(quote_online) over peer_fest as peer_mittel,
        stddev_samp(quote_online) over peer_fest as peer_sd,
        percent_rank() over (peer order by quote_online) as perzentil_peer,
        rank() over (peer order by quote_online desc) as rang_peer,
        count(*) over im_land as land_n,
        median(quote_online) over im_land as land_median,
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
    snapshot_date, land, as_of, ars, name, kommunenart, gebietstyp, peer_gruppe, ist_pilot,
    perspektive, n_anwendbar, n_online, quote_online,
    peer_n, peer_median, peer_mittel, peer_sd,
    perzentil_peer,
    case when peer_n >= 5 and peer_sd > 0 then (quote_online - peer_mittel) / peer_sd end
        as z_peer,
    rang_peer,
    quote_online - peer_median as abstand_peer_median,
    land_n, land_median, perzentil_land, rang_land,
    definition_version, sample
from stats
