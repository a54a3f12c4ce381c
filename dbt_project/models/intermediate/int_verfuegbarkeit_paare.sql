-- One row per snapshot × Kommune × applicable Leistung (docs/metrics.md §6.1–6.2):
--   traeger: the Kommune itself is competent (its Gebietstyp's flag in the competence matrix);
--   buerger: traeger, or the Kreis is competent for the Kommune's residents (Gemeinden only;
--            for a kreisfreie Stadt both coincide; Landkreise have the Träger view only).
with kommunen as (
    select * from {{ ref('int_kommunen') }}
),
zustaendig as (
    select * from {{ ref('int_leistung_zustaendigkeit') }} where zugeordnet
),
anwendbar as (
    select
        k.snapshot_date, k.ars, z.leika_key,
        case k.gebietstyp
            when 'kreisangehörige Gemeinde' then z.kreisangehoerige_gemeinde
            when 'kreisangehörige Stadt' then z.kreisangehoerige_stadt
            when 'Sonderstatusstadt' then z.sonderstatusstadt
            when 'kreisfreie Stadt' then z.kreisfreie_stadt
            when 'Landkreis' then z.landkreis
            else false
        end as traeger,
        z.landkreis as kreis_zustaendig,
        k.kommunenart
    from kommunen k
    join zustaendig z on z.snapshot_date = k.snapshot_date and z.land = k.land
)
select
    a.snapshot_date, a.ars, a.leika_key,
    a.traeger,
    case when a.kommunenart = 'Gemeinde' then a.traeger or a.kreis_zustaendig end as buerger,
    b.leika_key is not null as online,
    b.anbieter,
    b.anbieter_ars,
    b.url
from anwendbar a
left join {{ ref('int_buergersicht') }} b
    on b.snapshot_date = a.snapshot_date and b.ars = a.ars and b.leika_key = a.leika_key
where a.traeger or (a.kommunenart = 'Gemeinde' and a.kreis_zustaendig)
