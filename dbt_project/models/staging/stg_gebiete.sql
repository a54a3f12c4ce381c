select
    snapshot as snapshot_date,
    ars, ags, name, ebene, gebietstyp, textkennzeichen,
    verband_ars, kreis_ars, regierungsbezirk_ars, land_ars, land,
    bevoelkerung, flaeche_ha, plz, gebietsstand, sample
from {{ source('normalized', 'gebiete') }}
