-- Areas of the Länder in the lake, once per snapshot. Every Land partition holds the whole
-- nationwide GV100AD; each Land partition contributes only its own rows (file column land =
-- the partition's Land from the path), so an area appears once however many Länder are
-- loaded, and only for Länder whose partitions are in the lake.
with gelesen as (
    select *, {{ regexp_extract('filename', "'[/\\\\]land=([0-9]{2})[/\\\\]'", 1) }} as partition_land
    from {{ source('normalized', 'gebiete') }}
)
select
    snapshot as snapshot_date,
    ars, ags, name, ebene, gebietstyp, textkennzeichen,
    verband_ars, kreis_ars, regierungsbezirk_ars, land_ars, land,
    bevoelkerung, flaeche_ha, plz, gebietsstand, sample
from gelesen
where land = partition_land
