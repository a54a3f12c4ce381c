-- Roll-out per Kommune over the observation window (docs/metrics.md §6.7), summarised from
-- mart_rollout_kommune_leistung, with the same figures for the Kommune's peer group
-- (medians over the whole group, as peer_median elsewhere; groups never span Länder).
with paare as (
    select * from {{ ref('mart_rollout_kommune_leistung') }}
),
gruppen as (
    -- Peer group at the last Stichtag of the Kommune's Land.
    select ars, land, peer_gruppe
    from (
        select ars, land, peer_gruppe, snapshot_date,
               max(snapshot_date) over (partition by land) as letzter_stichtag
        from {{ ref('int_kommunen') }}
    ) kommunen
    where snapshot_date = letzter_stichtag
),
je_kommune as (
    select
        g.land,
        p.ars,
        -- The same for every row of the Kommune (dbt.any_value: min on PostgreSQL).
        {{ dbt.any_value('p.name') }} as name,
        {{ dbt.any_value('p.kommunenart') }} as kommunenart,
        {{ dbt.any_value('g.peer_gruppe') }} as peer_gruppe,
        min(p.erster_stichtag) as erster_stichtag,
        max(p.letzter_stichtag) as letzter_stichtag,
        count(*) as n_paare,
        count(*) filter (where p.in_lag_statistik) as n_gemessen,
        {{ median('p.verzoegerung_tage') }} filter (where p.in_lag_statistik)
            as median_verzoegerung_tage,
        count(*) filter (where p.rechts_zensiert and p.t0_land is not null) as n_ausstehend,
        count(*) filter (where p.links_zensiert) as n_vorher_online,
        bool_and(p.sample) as sample
    from paare p
    join gruppen g using (ars)
    group by g.land, p.ars
),
gruppe as (
    select
        g.land,
        g.peer_gruppe,
        count(distinct p.ars) as peer_n,
        {{ median('p.verzoegerung_tage') }} filter (where p.in_lag_statistik)
            as peer_median_verzoegerung_tage
    from paare p
    join gruppen g using (ars)
    group by g.land, g.peer_gruppe
),
gruppe_zaehler as (
    select land, peer_gruppe,
           {{ median('n_gemessen') }} as peer_median_n_gemessen,
           {{ median('n_ausstehend') }} as peer_median_n_ausstehend
    from je_kommune
    group by land, peer_gruppe
)
select
    k.land,
    k.ars, k.name, k.kommunenart, k.peer_gruppe, k.erster_stichtag, k.letzter_stichtag,
    k.n_paare, k.n_gemessen, k.median_verzoegerung_tage, k.n_ausstehend, k.n_vorher_online,
    g.peer_n, g.peer_median_verzoegerung_tage, z.peer_median_n_gemessen,
    z.peer_median_n_ausstehend,
    '{{ var("definition_version") }}' as definition_version,
    k.sample
from je_kommune k
join gruppe g using (land, peer_gruppe)
join gruppe_zaehler z using (land, peer_gruppe)
