-- Which Gebietstypen are competent for each Leistung, per Land × snapshot. Layers, the
-- first that resolves a Leistung wins, and the row carries it in zuordnung_quelle:
--   1 'regel'            reviewed rule of the seed competence_matrix naming a LeiKa key or an
--                        OZG-ID (the most specific wins: LeiKa key before OZG-ID before
--                        Typisierung; "*" or empty matches anything). Rows with beispiel = true
--                        apply only to sample rows and only while var zustaendigkeit_beispielregeln
--                        is true;
--   2 'beobachtet'       observed own entries of the Land's Kommunen (int_zustaendigkeit_beobachtet);
--   3 'typisierung'      seed rules by FIM-Typisierung alone (leika_key and ozg_id "*"):
--                        1 → Bund, 5 → Gemeinde;
--   4 'nicht zugeordnet' nothing resolves: in no denominator, listed in mart_zustaendigkeit_leistung.
-- Land and Bund competence (land_zustaendig, bund_zustaendig) come from rules only: a Land or
-- Bund entry may serve the Gemeinden and is no evidence of the Land's competence.
with leistungen as (
    select * from {{ ref('int_zustaendigkeit_beobachtet') }}
),
regeln as (
    select
        regel_id,
        coalesce(nullif(trim(leika_key), ''), '*') as regel_leika_key,
        coalesce(nullif(trim(ozg_id), ''), '*') as regel_ozg_id,
        coalesce(nullif(trim(typisierung), ''), '*') as regel_typisierung,
        kreisangehoerige_gemeinde, kreisangehoerige_stadt, sonderstatusstadt, kreisfreie_stadt,
        landkreis, land, bund,
        coalesce(beispiel, false) as beispiel
    from {{ ref('competence_matrix') }}
),
kandidaten as (
    select
        l.land as land_code, l.snapshot_date, l.leika_key, r.*,
        case when r.regel_leika_key = '*' and r.regel_ozg_id = '*'
             then 'typisierung' else 'regel' end as schicht,
        (case when r.regel_leika_key <> '*' then 4 else 0 end)
        + (case when r.regel_ozg_id <> '*' then 2 else 0 end)
        + (case when r.regel_typisierung <> '*' then 1 else 0 end) as spezifitaet
    from leistungen l
    join regeln r
        on (r.regel_leika_key = l.leika_key or r.regel_leika_key = '*')
       and (r.regel_ozg_id = l.ozg_id or r.regel_ozg_id = '*')
       and (r.regel_typisierung = l.typisierung or r.regel_typisierung = '*')
    -- Example rules of the synthetic catalogue: sample rows only, and switchable off.
    where not r.beispiel or (l.sample and {{ var('zustaendigkeit_beispielregeln') }})
),
beste as (
    select * from (
        select *, row_number() over (
            partition by land_code, snapshot_date, leika_key, schicht
            order by spezifitaet desc, regel_id
        ) as regel_rang
        from kandidaten
    ) gerankt
    where regel_rang = 1
),
aufgeloest as (
    select
        l.*,
        r.regel_id as regel_id_regel,
        t.regel_id as regel_id_typisierung,
        case
            when r.regel_id is not null then 'regel'
            when l.beobachtete_ebene is not null then 'beobachtet'
            when t.regel_id is not null then 'typisierung'
            else 'nicht zugeordnet'
        end as zuordnung_quelle,
        -- Flags of the winning layer (observed: Gemeinde or Kreis level, see the model above).
        case
            when r.regel_id is not null then r.kreisangehoerige_gemeinde = 1
            when l.beobachtete_ebene is not null then l.beobachtete_ebene = 'gemeinde'
            else coalesce(t.kreisangehoerige_gemeinde, 0) = 1
        end as kreisangehoerige_gemeinde,
        case
            when r.regel_id is not null then r.kreisangehoerige_stadt = 1
            when l.beobachtete_ebene is not null then l.beobachtete_ebene = 'gemeinde'
            else coalesce(t.kreisangehoerige_stadt, 0) = 1
        end as kreisangehoerige_stadt,
        case
            when r.regel_id is not null then r.sonderstatusstadt = 1
            when l.beobachtete_ebene is not null
                then l.beobachtete_ebene = 'gemeinde' or l.beobachtet_sonderstatus
            else coalesce(t.sonderstatusstadt, 0) = 1
        end as sonderstatusstadt,
        case
            when r.regel_id is not null then r.kreisfreie_stadt = 1
            when l.beobachtete_ebene is not null then true
            else coalesce(t.kreisfreie_stadt, 0) = 1
        end as kreisfreie_stadt,
        case
            when r.regel_id is not null then r.landkreis = 1
            when l.beobachtete_ebene is not null then l.beobachtete_ebene = 'kreis'
            else coalesce(t.landkreis, 0) = 1
        end as landkreis,
        case
            when r.regel_id is not null then r.land = 1
            when l.beobachtete_ebene is not null then false
            else coalesce(t.land, 0) = 1
        end as land_zustaendig,
        case
            when r.regel_id is not null then r.bund = 1
            when l.beobachtete_ebene is not null then false
            else coalesce(t.bund, 0) = 1
        end as bund_zustaendig
    from leistungen l
    left join beste r
        on r.land_code = l.land and r.snapshot_date = l.snapshot_date
       and r.leika_key = l.leika_key and r.schicht = 'regel'
    left join beste t
        on t.land_code = l.land and t.snapshot_date = l.snapshot_date
       and t.leika_key = l.leika_key and t.schicht = 'typisierung'
)
select
    land, snapshot_date, leika_key, leika_name, ozg_id, typisierung,
    case zuordnung_quelle
        when 'regel' then regel_id_regel
        when 'typisierung' then regel_id_typisierung
    end as regel_id,
    coalesce(kreisangehoerige_gemeinde, false) as kreisangehoerige_gemeinde,
    coalesce(kreisangehoerige_stadt, false) as kreisangehoerige_stadt,
    coalesce(sonderstatusstadt, false) as sonderstatusstadt,
    coalesce(kreisfreie_stadt, false) as kreisfreie_stadt,
    coalesce(landkreis, false) as landkreis,
    coalesce(land_zustaendig, false) as land_zustaendig,
    coalesce(bund_zustaendig, false) as bund_zustaendig,
    zuordnung_quelle <> 'nicht zugeordnet' as zugeordnet,
    zuordnung_quelle,
    beobachtete_ebene,
    beobachtung_basis,
    case when zuordnung_quelle = 'beobachtet' then konfidenz end as konfidenz,
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
from aufgeloest
