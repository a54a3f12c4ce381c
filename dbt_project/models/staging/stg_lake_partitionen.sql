-- One row per promoted partition (table × Land × snapshot) with its row count, as each
-- Land's build delivered it (nationwide rows and the Bund's queries counted in every Land
-- partition that holds them), and for verfuegbarkeit the latest Datenstand of the partition.
with gebiete as (
    select snapshot, {{ regexp_extract('filename', "'[/\\\\]land=([0-9]{2})[/\\\\]'", 1) }} as land,
           sample
    from {{ source('normalized', 'gebiete') }}
),
partitionen as (
    select 'gebiete' as tabelle, land, snapshot, count(*) as zeilen,
           cast(null as date) as datenstand, bool_and(sample) as sample
    from gebiete group by land, snapshot
    union all
    select 'leistungen', land, snapshot, count(*), null, bool_and(sample)
    from {{ source('normalized', 'leistungen') }} group by land, snapshot
    union all
    select 'verfuegbarkeit', land, snapshot, count(*), max(datenstand), bool_and(sample)
    from {{ source('normalized', 'verfuegbarkeit') }} group by land, snapshot
    union all
    select 'onlinedienste', land, snapshot, count(*), null, bool_and(sample)
    from {{ source('normalized', 'onlinedienste') }} group by land, snapshot
)
select tabelle, land, snapshot as snapshot_date, zeilen, datenstand, sample
from partitionen
