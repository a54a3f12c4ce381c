-- Observed competence (layer 2 of int_leistung_zustaendigkeit), one row per Land × snapshot ×
-- Leistung. Evidence is the OWN entries of the Land's Kommunen (query_scope own, entry ARS =
-- the queried Kommune's ARS) over the observation window = every snapshot of that Land in
-- the lake; the result is the same for every snapshot of a Land (a new snapshot can restate
-- earlier ones). Land and Bund entries are never evidence: they may serve the Gemeinden.
--
-- Shares: Kommunen of a Gebietstyp with at least one own entry in the window / Kommunen of
-- that type in the Land (in the window). Kreisangehörige Gemeinden and Städte have the same
-- competences and are pooled ("kreisangehörig"). The same shares pooled over every LeiKa key
-- of the row's OZG-Leistung (ozg_*) resolve keys whose own pattern is ambiguous or empty.
--
-- Rule (threshold s = var zustaendigkeit_schwelle, metric dictionary of
-- mart_zustaendigkeit_leistung):
--   Gemeinde level  if the kreisangehörige share of the key >= s, else if the pooled OZG share
--                   >= s (a Kreis or Land entry serving its Gemeinden, or a key not yet seen);
--                   kreisangehörige Gemeinde/Stadt, Sonderstatusstadt and kreisfreie Stadt are
--                   competent (every Gemeinde type holds the Gemeinde tasks), Landkreis not;
--   Kreis level     else if the Landkreis share of the key >= s, else if its pooled OZG share
--                   >= s; Landkreis and kreisfreie Stadt are competent, the Sonderstatusstadt
--                   iff its share of the key (or, when resolved via the OZG, of the OZG) >= s;
--   none            otherwise (e.g. only kreisfreie Städte, or only the Land): layer 3 or
--                   "nicht zugeordnet".
{% set schwelle = var('zustaendigkeit_schwelle') %}
with kommunen as (
    select snapshot_date, land, ars, gebietstyp
    from {{ ref('int_kommunen') }}
),
laender as (
    select distinct snapshot_date, land from kommunen
),
bestand as (
    -- Kommunen per Land and Gebietstyp over the window (the denominators of the shares).
    select
        land,
        count(distinct ars) filter (
            where gebietstyp in ('kreisangehörige Gemeinde', 'kreisangehörige Stadt')
        ) as n_kreisangehoerig,
        count(distinct ars) filter (where gebietstyp = 'kreisangehörige Gemeinde') as n_gemeinde,
        count(distinct ars) filter (where gebietstyp = 'kreisangehörige Stadt') as n_stadt,
        count(distinct ars) filter (where gebietstyp = 'Sonderstatusstadt') as n_sonderstatus,
        count(distinct ars) filter (where gebietstyp = 'kreisfreie Stadt') as n_kreisfrei,
        count(distinct ars) filter (where gebietstyp = 'Landkreis') as n_landkreis
    from kommunen
    group by land
),
eintraege as (
    select v.snapshot_date, v.land, v.query_ars, v.anbieter_ars, v.leika_key,
           coalesce(l.ozg_id, v.ozg_id) as ozg_id
    from {{ ref('stg_verfuegbarkeit') }} v
    left join {{ ref('stg_leistungen') }} l
        on l.snapshot_date = v.snapshot_date and l.leika_key = v.leika_key
    where v.query_scope = 'own' and v.anbieter_ars = v.query_ars
),
eigen as (
    -- Own entries of Kommunen, with the Gebietstyp the Kommune had at that snapshot.
    select distinct k.land, k.ars, k.gebietstyp, e.leika_key, e.ozg_id
    from eintraege e
    join kommunen k on k.snapshot_date = e.snapshot_date and k.ars = e.anbieter_ars
),
je_leistung as (
    select
        land, leika_key,
        count(distinct ars) as n_kommunen_eigen,
        count(distinct ars) filter (
            where gebietstyp in ('kreisangehörige Gemeinde', 'kreisangehörige Stadt')
        ) as n_kreisangehoerig,
        count(distinct ars) filter (where gebietstyp = 'kreisangehörige Gemeinde') as n_gemeinde,
        count(distinct ars) filter (where gebietstyp = 'kreisangehörige Stadt') as n_stadt,
        count(distinct ars) filter (where gebietstyp = 'Sonderstatusstadt') as n_sonderstatus,
        count(distinct ars) filter (where gebietstyp = 'kreisfreie Stadt') as n_kreisfrei,
        count(distinct ars) filter (where gebietstyp = 'Landkreis') as n_landkreis
    from eigen
    group by land, leika_key
),
ozg_eintraege as (
    -- The entries' OZG-ID, for keys the catalogue gives none (e.g. PVOG-only keys): the
    -- most frequent over the Kommunen with an own entry, on a tie the smallest.
    select land, leika_key, ozg_id as ozg_id_eintraege
    from (
        select land, leika_key, ozg_id, row_number() over (
            partition by land, leika_key order by count(*) desc, ozg_id
        ) as haeufigkeit_rang
        from eigen
        where ozg_id is not null
        group by land, leika_key, ozg_id
    ) gezaehlt
    where haeufigkeit_rang = 1
),
je_ozg as (
    select
        land, ozg_id,
        count(distinct ars) filter (
            where gebietstyp in ('kreisangehörige Gemeinde', 'kreisangehörige Stadt')
        ) as n_kreisangehoerig,
        count(distinct ars) filter (where gebietstyp = 'Sonderstatusstadt') as n_sonderstatus,
        count(distinct ars) filter (where gebietstyp = 'Landkreis') as n_landkreis
    from eigen
    where ozg_id is not null
    group by land, ozg_id
),
land_bund as (
    -- Whether the Land's or the Bund's own ARS holds an entry (shown, never used as evidence).
    select x.land, e.leika_key,
           bool_or(e.anbieter_ars = x.land || '0000000000') as eintrag_land,
           bool_or(e.anbieter_ars = '000000000000') as eintrag_bund
    from eintraege e
    join (select distinct land from kommunen) x
        on e.anbieter_ars in (x.land || '0000000000', '000000000000')
    group by x.land, e.leika_key
),
leistungen as (
    select
        x.land, l.snapshot_date, l.leika_key, l.leika_name,
        coalesce(l.ozg_id, o.ozg_id_eintraege) as ozg_id,
        l.typisierung, l.sample
    from {{ ref('stg_leistungen') }} l
    join laender x on x.snapshot_date = l.snapshot_date
    left join ozg_eintraege o on o.land = x.land and o.leika_key = l.leika_key
),
anteile as (
    select
        l.*,
        coalesce(j.n_kommunen_eigen, 0) as n_kommunen_eigen,
        cast(coalesce(j.n_kreisangehoerig, 0) as double precision)
            / nullif(b.n_kreisangehoerig, 0) as anteil_kreisangehoerig,
        cast(coalesce(j.n_gemeinde, 0) as double precision)
            / nullif(b.n_gemeinde, 0) as anteil_kreisangehoerige_gemeinde,
        cast(coalesce(j.n_stadt, 0) as double precision)
            / nullif(b.n_stadt, 0) as anteil_kreisangehoerige_stadt,
        cast(coalesce(j.n_sonderstatus, 0) as double precision)
            / nullif(b.n_sonderstatus, 0) as anteil_sonderstatusstadt,
        cast(coalesce(j.n_kreisfrei, 0) as double precision)
            / nullif(b.n_kreisfrei, 0) as anteil_kreisfreie_stadt,
        cast(coalesce(j.n_landkreis, 0) as double precision)
            / nullif(b.n_landkreis, 0) as anteil_landkreis,
        case when l.ozg_id is not null
             then cast(coalesce(o.n_kreisangehoerig, 0) as double precision)
                      / nullif(b.n_kreisangehoerig, 0) end
            as ozg_anteil_kreisangehoerig,
        case when l.ozg_id is not null
             then cast(coalesce(o.n_sonderstatus, 0) as double precision)
                      / nullif(b.n_sonderstatus, 0) end
            as ozg_anteil_sonderstatusstadt,
        case when l.ozg_id is not null
             then cast(coalesce(o.n_landkreis, 0) as double precision)
                      / nullif(b.n_landkreis, 0) end
            as ozg_anteil_landkreis,
        coalesce(lb.eintrag_land, false) as eintrag_land,
        coalesce(lb.eintrag_bund, false) as eintrag_bund
    from leistungen l
    left join bestand b on b.land = l.land
    left join je_leistung j on j.land = l.land and j.leika_key = l.leika_key
    left join je_ozg o on o.land = l.land and o.ozg_id = l.ozg_id
    left join land_bund lb on lb.land = l.land and lb.leika_key = l.leika_key
),
entscheidung as (
    select
        *,
        case
            when anteil_kreisangehoerig >= {{ schwelle }} then 'gemeinde'
            when ozg_anteil_kreisangehoerig >= {{ schwelle }} then 'gemeinde'
            when anteil_landkreis >= {{ schwelle }} then 'kreis'
            when ozg_anteil_landkreis >= {{ schwelle }} then 'kreis'
        end as beobachtete_ebene,
        case
            when anteil_kreisangehoerig >= {{ schwelle }} then 'leistung'
            when ozg_anteil_kreisangehoerig >= {{ schwelle }} then 'ozg'
            when anteil_landkreis >= {{ schwelle }} then 'leistung'
            when ozg_anteil_landkreis >= {{ schwelle }} then 'ozg'
        end as beobachtung_basis
    from anteile
)
select
    land, snapshot_date, leika_key, leika_name, ozg_id, typisierung,
    beobachtete_ebene,
    beobachtung_basis,
    -- Sonderstatusstädte execute a Kreis-level Leistung only where they are seen doing so.
    beobachtete_ebene = 'kreis' and (
        coalesce(anteil_sonderstatusstadt, 0) >= {{ schwelle }}
        or (beobachtung_basis = 'ozg' and coalesce(ozg_anteil_sonderstatusstadt, 0) >= {{ schwelle }})
    ) as beobachtet_sonderstatus,
    -- Confidence: the share the decision rests on.
    case
        when beobachtete_ebene = 'gemeinde' and beobachtung_basis = 'leistung' then anteil_kreisangehoerig
        when beobachtete_ebene = 'gemeinde' then ozg_anteil_kreisangehoerig
        when beobachtete_ebene = 'kreis' and beobachtung_basis = 'leistung' then anteil_landkreis
        when beobachtete_ebene = 'kreis' then ozg_anteil_landkreis
    end as konfidenz,
    n_kommunen_eigen,
    anteil_kreisangehoerig,
    anteil_kreisangehoerige_gemeinde,
    anteil_kreisangehoerige_stadt,
    anteil_sonderstatusstadt,
    anteil_kreisfreie_stadt,
    anteil_landkreis,
    ozg_anteil_kreisangehoerig,
    ozg_anteil_landkreis,
    eintrag_land,
    eintrag_bund,
    sample
from entscheidung
