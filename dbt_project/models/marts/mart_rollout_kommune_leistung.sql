-- Roll-out per Kommune × Leistung over all snapshots (docs/metrics.md §6.7): first online
-- snapshot, the Land's first online snapshot t0 (over the Kommunen of the same Land only),
-- lag in days with censoring flags; the observation window is the Land's.
-- Gemeinden: citizen view; Landkreise: Träger view.
with paare as (
    select p.*, k.land, k.kommunenart
    from {{ ref('int_verfuegbarkeit_paare') }} p
    join {{ ref('int_kommunen') }} k on k.snapshot_date = p.snapshot_date and k.ars = p.ars
    where (k.kommunenart = 'Gemeinde' and p.buerger) or (k.kommunenart = 'Landkreis' and p.traeger)
),
fenster as (
    select land, min(snapshot_date) as erster_stichtag, max(snapshot_date) as letzter_stichtag
    from {{ ref('int_kommunen') }}
    group by land
),
je_paar as (
    select
        p.land, p.ars, p.leika_key, {{ dbt.any_value('p.kommunenart') }} as kommunenart,
        min(p.snapshot_date) filter (where p.online) as erstmals_online,
        bool_or(p.online and p.snapshot_date = f.letzter_stichtag) as aktuell_online,
        count(*) filter (where p.online) as n_stichtage_online,
        count(*) as n_stichtage
    from paare p
    join fenster f using (land)
    group by p.land, p.ars, p.leika_key
),
mit_t0 as (
    select *, min(erstmals_online) over (partition by land, leika_key) as t0_land
    from je_paar
)
select
    m.land,
    m.ars,
    k.name,
    m.kommunenart,
    m.leika_key,
    l.leika_name,
    f.erster_stichtag,
    f.letzter_stichtag,
    m.t0_land,
    m.t0_land = f.erster_stichtag as t0_links_zensiert,
    m.erstmals_online,
    m.erstmals_online is not null as eingefuehrt,
    m.erstmals_online = f.erster_stichtag as links_zensiert,
    m.erstmals_online is null as rechts_zensiert,
    case when m.erstmals_online is not null
             then {{ days_between('m.t0_land', 'm.erstmals_online') }}
         when m.t0_land is not null then {{ days_between('m.t0_land', 'f.letzter_stichtag') }}
    end as verzoegerung_tage,
    -- Lag statistics use only pairs adopted inside the window with a known start.
    coalesce(m.erstmals_online > f.erster_stichtag and m.t0_land > f.erster_stichtag, false)
        as in_lag_statistik,
    m.aktuell_online,
    m.n_stichtage_online,
    m.n_stichtage,
    '{{ var("definition_version") }}' as definition_version,
    k.sample
from mit_t0 m
join fenster f using (land)
join {{ ref('int_kommunen') }} k on k.snapshot_date = f.letzter_stichtag and k.ars = m.ars
left join {{ ref('stg_leistungen') }} l
    on l.snapshot_date = f.letzter_stichtag and l.leika_key = m.leika_key
