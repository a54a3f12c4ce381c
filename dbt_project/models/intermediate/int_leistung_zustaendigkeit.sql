-- Which Gebietstyp is competent for each Leistung: the most specific rule of the seed
-- competence_matrix wins (OZG-ID match before Typisierung match; "*" matches anything).
-- Leistungen without a rule are "nicht zugeordnet" and stay out of every denominator.
with leistungen as (
    select * from {{ ref('stg_leistungen') }}
),
candidates as (
    select
        l.snapshot_date, l.leika_key, l.typisierung, l.ozg_id, m.*,
        (case when m.ozg_id <> '*' then 2 else 0 end)
        + (case when m.typisierung <> '*' then 1 else 0 end) as spezifitaet
    from leistungen l
    join {{ ref('competence_matrix') }} m
        on (m.ozg_id = l.ozg_id or m.ozg_id = '*')
       and (m.typisierung = l.typisierung or m.typisierung = '*')
),
ranked as (
    select *, row_number() over (
        partition by snapshot_date, leika_key order by spezifitaet desc, regel_id
    ) as rang
    from candidates
)
select
    l.snapshot_date, l.leika_key, l.leika_name, l.ozg_id, l.typisierung,
    r.regel_id,
    coalesce(r.kreisangehoerige_gemeinde, 0) = 1 as kreisangehoerige_gemeinde,
    coalesce(r.kreisangehoerige_stadt, 0) = 1 as kreisangehoerige_stadt,
    coalesce(r.sonderstatusstadt, 0) = 1 as sonderstatusstadt,
    coalesce(r.kreisfreie_stadt, 0) = 1 as kreisfreie_stadt,
    coalesce(r.landkreis, 0) = 1 as landkreis,
    coalesce(r.land, 0) = 1 as land,
    coalesce(r.bund, 0) = 1 as bund,
    r.regel_id is not null as zugeordnet
from leistungen l
left join ranked r
    on r.snapshot_date = l.snapshot_date and r.leika_key = l.leika_key and r.rang = 1
