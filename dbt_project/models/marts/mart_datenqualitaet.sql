-- Data quality and freshness per table and snapshot (metrics.md §6.12): promoted rows,
-- quarantined rows with reasons, and the age of the API's Datenstand at the snapshot.
with zeilen as (
    select snapshot_date, 'gebiete' as tabelle, count(*) as zeilen from {{ ref('stg_gebiete') }} group by all
    union all
    select snapshot_date, 'leistungen', count(*) from {{ ref('stg_leistungen') }} group by all
    union all
    select snapshot_date, 'verfuegbarkeit', count(*) from {{ ref('stg_verfuegbarkeit') }} group by all
    union all
    select snapshot_date, 'onlinedienste', count(*) from {{ ref('stg_onlinedienste') }} group by all
),
quarantaene as (
    select snapshot_date, tabelle, count(*) as zeilen_quarantaene,
           string_agg(reason_code || ': ' || n, ', ' order by reason_code) as gruende
    from (select snapshot_date, tabelle, reason_code, count(*) as n
          from {{ ref('stg_quarantaene') }} group by all)
    group by all
),
stand as (
    select snapshot_date, max(datenstand) as datenstand, bool_and(sample) as sample
    from {{ ref('stg_verfuegbarkeit') }} group by all
)
select
    z.snapshot_date,
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
left join quarantaene q on q.snapshot_date = z.snapshot_date and q.tabelle = z.tabelle
left join stand s on s.snapshot_date = z.snapshot_date
