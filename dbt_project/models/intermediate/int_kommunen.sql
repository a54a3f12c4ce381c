-- Kommunen of every Land in the lake, one row per snapshot and ARS: inhabited Gemeinden
-- (kreisfreie Städte included, as Gemeinde with Kreis = itself) and Landkreise, with the
-- attributes that define fair peer groups (Land × Gebietstyp × Größenklasse,
-- docs/metrics.md §6.9).
-- Peer groups are sized within the Kommune's own Land only.
with gebiete as (
    select * from {{ ref('stg_gebiete') }}
),
kreise as (
    select snapshot_date, ars as kreis_ars, name as kreis_name from gebiete where ebene = 'Kreis'
),
kommunen as (
    select snapshot_date, land, ars, ags, name, 'Gemeinde' as kommunenart, gebietstyp,
           kreis_ars, land_ars, bevoelkerung, flaeche_ha, sample
    from gebiete
    where ebene = 'Gemeinde' and bevoelkerung > 0
    union all
    select snapshot_date, land, ars, ags, name, 'Landkreis' as kommunenart, gebietstyp,
           ars as kreis_ars, land_ars, bevoelkerung, flaeche_ha, sample
    from gebiete
    where ebene = 'Kreis' and gebietstyp = 'Landkreis'
),
classified as (
    select
        k.*,
        kr.kreis_name,
        -- Kreisangehörige Städte and Gemeinden have the same competences: one peer type.
        case when k.gebietstyp in ('kreisangehörige Stadt', 'kreisangehörige Gemeinde')
             then 'kreisangehörige Gemeinde/Stadt' else k.gebietstyp end as peer_typ,
        s.groessenklasse,
        s.bezeichnung as groessenklasse_bezeichnung,
        p.ars is not null as ist_pilot
    from kommunen k
    left join kreise kr on kr.snapshot_date = k.snapshot_date and kr.kreis_ars = k.kreis_ars
    left join {{ ref('size_bands') }} s
        on k.bevoelkerung >= s.von_einwohner and k.bevoelkerung < s.bis_einwohner
    left join {{ ref('pilot_kommunen') }} p on p.ars = k.ars
),
sized as (
    select *, count(*) over (partition by snapshot_date, land, peer_typ, groessenklasse)
        as n_fein
    from classified
),
split as (
    -- A Gebietstyp is split by Größenklasse only if every class has at least 5 members;
    -- otherwise the whole Gebietstyp is one peer group (e.g. Hessen's 21 Landkreise).
    select *, min(n_fein) over (partition by snapshot_date, land, peer_typ) >= 5
        as nach_groesse
    from sized
)
select
    snapshot_date, land, ars, ags, name, kommunenart, gebietstyp, peer_typ, kreis_ars,
    kreis_name, land_ars, bevoelkerung, flaeche_ha, groessenklasse, groessenklasse_bezeichnung,
    ist_pilot,
    case when nach_groesse
         then land || '|' || peer_typ || '|' || groessenklasse_bezeichnung
         else land || '|' || peer_typ end as peer_gruppe,
    sample
from split
