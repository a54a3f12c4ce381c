-- Data quality and freshness per Land, table and snapshot (metrics.md §6.12): rows promoted
-- in the Land's partition, rows its build quarantined with reasons, and the age of the
-- API's Datenstand at the snapshot. Counted per Land partition as delivered (nationwide
-- tables and the Bund's queries are part of every Land's delivery).
with zeilen as (
    select land, snapshot_date, tabelle, zeilen from {{ ref('stg_lake_partitionen') }}
),
quarantaene as (
    select land, snapshot_date, tabelle, count(*) as zeilen_quarantaene,
           string_agg(reason_code || ': ' || n, ', ' order by reason_code) as gruende
    from (select land, snapshot_date, tabelle, reason_code, count(*) as n
          from {{ ref('stg_quarantaene') }} group by all)
    group by all
),
stand as (
    select land, snapshot_date, datenstand, sample
    from {{ ref('stg_lake_partitionen') }} where tabelle = 'verfuegbarkeit'
)
select
    z.snapshot_date,
    z.land,
    z.tabelle,
    z.zeilen,
    coalesce(q.zeilen_quarantaene, 0) as zeilen_quarantaene,
    coalesce(q.zeilen_quarantaene, 0)::double / nullif(z.zeilen + coalesce(q.zeilen_quarantaene, 0), 0)
        as anteil_quarantaene,
    q.gruende,
    s.datenstand,
    datediff('day', s.datenstand, z.snapshot_date) as alter_datenstand_tage,
    '{{ var("definition_version") }}' as definition_version,
    s.sample
from zeilen z
left join quarantaene q
    on q.land = z.land and q.snapshot_date = z.snapshot_date and q.tabelle = z.tabelle
left join stand s on s.land = z.land and s.snapshot_date = z.snapshot_date
