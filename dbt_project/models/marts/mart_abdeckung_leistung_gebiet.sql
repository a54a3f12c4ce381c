-- Coverage of each Leistung per Kreis and Land (docs/metrics.md §6.4, §6.5): share of inhabited
-- Gemeinden with the Leistung online (count and population-weighted), the flächendeckend
-- class, where full coverage comes from, and the API's own Flächendeckung for comparison.
-- Every Land in the lake is covered on its own: an area's figures use its Land's entries
-- (and the Bund's) only.
-- PostgreSQL misplans the joins after the one with gebietsnamen (macros/postgres_planner.sql).
{{ config(pre_hook="{{ postgres_without_nested_loops() }}") }}
with gemeinden as (
    select p.snapshot_date, k.land, p.leika_key, p.online, k.kreis_ars, k.land_ars,
           k.bevoelkerung
    from {{ ref('int_verfuegbarkeit_paare') }} p
    join {{ ref('int_kommunen') }} k on k.snapshot_date = p.snapshot_date and k.ars = p.ars
    where p.buerger and k.kommunenart = 'Gemeinde'
),
gebiete as (
    select snapshot_date, land, leika_key, 'Kreis' as gebietsebene, kreis_ars as gebiet_ars,
           online, bevoelkerung from gemeinden
    union all
    select snapshot_date, land, leika_key, 'Land', land_ars, online, bevoelkerung from gemeinden
),
abdeckung as (
    select
        snapshot_date, land, leika_key, gebietsebene, gebiet_ars,
        count(*) as n_gemeinden,
        count(*) filter (where online) as n_gemeinden_online,
        cast(sum(bevoelkerung) as bigint) as bevoelkerung,
        cast(coalesce(sum(bevoelkerung) filter (where online), 0) as bigint) as bevoelkerung_online
    from gebiete
    group by snapshot_date, land, leika_key, gebietsebene, gebiet_ars
),
gebietsnamen as (
    select snapshot_date, ars, ebene, name, sample from {{ ref('stg_gebiete') }}
    where ebene in ('Kreis', 'Land')
),
eintraege as (
    select * from {{ ref('int_online_eintraege') }}
),
api_eintrag as (
    -- The API's classification per providing ARS and Leistung (best class of its entries);
    -- land: the provider's Land ('00' for the Bund).
    select
        snapshot_date, leika_key, anbieter_ars, left(anbieter_ars, 2) as land,
        max(case art_flaechendeckung
                when 'bundesweit flächendeckend' then 4
                when 'landesweit flächendeckend' then 3
                when 'kreisweit flächendeckend' then 2
                when 'in mind. einer Kommune verfügbar' then 1 end) as api_rang
    from {{ ref('stg_verfuegbarkeit') }}
    where query_scope = 'own' and eintrag_online
    group by snapshot_date, leika_key, anbieter_ars
),
api_bund as (
    select snapshot_date, leika_key, max(api_rang) as bund_rang
    from api_eintrag where anbieter_ars = '000000000000'
    group by snapshot_date, leika_key
),
api_landesebene as (
    select snapshot_date, land, leika_key, max(api_rang) as land_rang
    from api_eintrag where anbieter_ars = land || '0000000000' and land <> '00'
    group by snapshot_date, land, leika_key
),
api_kreis as (
    select snapshot_date, land, leika_key, left(anbieter_ars, 5) || '0000000' as gebiet_ars,
           max(api_rang) as api_rang
    from api_eintrag where anbieter_ars not like '__0000000000'
    group by snapshot_date, land, leika_key, left(anbieter_ars, 5) || '0000000'
),
api_land as (
    select snapshot_date, land, leika_key, max(api_rang) as api_rang
    from api_kreis
    group by snapshot_date, land, leika_key
),
api as (
    -- Entries serving an area: the Bund's, the Land's, and for a Kreis those of the Kreis and
    -- its Gemeinden; for the Land those of all its Kreise and Gemeinden.
    select a.snapshot_date, a.land, a.leika_key, a.gebietsebene, a.gebiet_ars,
           greatest(coalesce(b.bund_rang, 0), coalesce(o.land_rang, 0),
                    coalesce(case when a.gebietsebene = 'Kreis' then k.api_rang
                                  else l.api_rang end, 0)) as api_rang
    from (select distinct snapshot_date, land, leika_key, gebietsebene, gebiet_ars
          from abdeckung) a
    left join api_bund b on b.snapshot_date = a.snapshot_date and b.leika_key = a.leika_key
    left join api_landesebene o
        on o.snapshot_date = a.snapshot_date and o.land = a.land and o.leika_key = a.leika_key
    left join api_kreis k
        on k.snapshot_date = a.snapshot_date and k.land = a.land and k.leika_key = a.leika_key
       and k.gebiet_ars = a.gebiet_ars
    left join api_land l
        on l.snapshot_date = a.snapshot_date and l.land = a.land and l.leika_key = a.leika_key
)
select
    c.snapshot_date,
    c.land,
    c.leika_key,
    l.leika_name,
    c.gebietsebene,
    c.gebiet_ars,
    g.name as gebiet_name,
    c.n_gemeinden,
    c.n_gemeinden_online,
    cast(c.n_gemeinden_online as double precision) / c.n_gemeinden as abdeckung_anzahl,
    c.bevoelkerung,
    c.bevoelkerung_online,
    cast(c.bevoelkerung_online as double precision) / nullif(c.bevoelkerung, 0)
        as abdeckung_bevoelkerung,
    case when c.n_gemeinden_online = c.n_gemeinden then 'flaechendeckend'
         when c.n_gemeinden_online > 0 then 'teilweise'
         else 'nicht_verfuegbar' end as klasse,
    case when c.n_gemeinden_online < c.n_gemeinden then null
         when bund.leika_key is not null then 'bundesweit'
         when landesebene.leika_key is not null then 'landesweit'
         when c.gebietsebene = 'Kreis' and kreis.leika_key is not null then 'kreisweit'
         else 'kommunal' end as herkunft,
    case nullif(a.api_rang, 0) when 4 then 'bundesweit flächendeckend' when 3 then 'landesweit flächendeckend'
                    when 2 then 'kreisweit flächendeckend'
                    when 1 then 'in mind. einer Kommune verfügbar' end as api_flaechendeckung,
    case
        when coalesce(a.api_rang, 0) = 0 then 'keine API-Angabe'
        when (c.n_gemeinden_online = c.n_gemeinden)
             = (a.api_rang >= case c.gebietsebene when 'Kreis' then 2 else 3 end)
            then 'übereinstimmend'
        else 'abweichend'
    end as abgleich_api,
    '{{ var("definition_version") }}' as definition_version,
    g.sample
from abdeckung c
join gebietsnamen g
    on g.snapshot_date = c.snapshot_date and g.ars = c.gebiet_ars
   and g.ebene = c.gebietsebene
left join {{ ref('stg_leistungen') }} l on l.snapshot_date = c.snapshot_date and l.leika_key = c.leika_key
left join eintraege bund
    on bund.snapshot_date = c.snapshot_date and bund.leika_key = c.leika_key
   and bund.anbieter_ars = '000000000000'
left join eintraege landesebene
    on landesebene.snapshot_date = c.snapshot_date and landesebene.leika_key = c.leika_key
   and landesebene.anbieter_ars = c.land || '0000000000'
left join eintraege kreis
    on kreis.snapshot_date = c.snapshot_date and kreis.leika_key = c.leika_key
   and kreis.anbieter_ars = c.gebiet_ars
left join api a
    on a.snapshot_date = c.snapshot_date and a.land = c.land and a.leika_key = c.leika_key
   and a.gebietsebene = c.gebietsebene and a.gebiet_ars = c.gebiet_ars
