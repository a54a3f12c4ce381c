-- Connection backlog (Anschlusslücke, docs/metrics.md §6.8): per Kommune the applicable
-- Leistungen it lacks although most of its peers, or most Gemeinden of its Kreis, already
-- offer them; with the age of each gap and ordered by how many peers have it. Peers and
-- Stichtage are those of the Kommune's own Land.
with paare as (
    select p.snapshot_date, k.land, p.ars, p.leika_key, p.online, k.peer_gruppe, k.kreis_ars,
           k.kommunenart
    from {{ ref('int_verfuegbarkeit_paare') }} p
    join {{ ref('int_kommunen') }} k on k.snapshot_date = p.snapshot_date and k.ars = p.ars
    where (k.kommunenart = 'Gemeinde' and p.buerger) or (k.kommunenart = 'Landkreis' and p.traeger)
),
mit_vergleich as (
    select
        *,
        count(*) over peer - 1 as n_peers,
        count(*) filter (where online) over peer - cast(online as integer) as n_peers_online,
        count(*) filter (where kommunenart = 'Gemeinde') over kreis
            - cast(kommunenart = 'Gemeinde' as integer) as n_kreis_gemeinden,
        count(*) filter (where kommunenart = 'Gemeinde' and online) over kreis
            - cast(kommunenart = 'Gemeinde' and online as integer) as n_kreis_gemeinden_online
    from paare
    window
        peer as (partition by snapshot_date, land, leika_key, peer_gruppe),
        kreis as (partition by snapshot_date, leika_key, kreis_ars)
),
luecken as (
    select
        *,
        cast(n_peers_online as double precision) / nullif(n_peers, 0) as anteil_peers_online,
        cast(n_kreis_gemeinden_online as double precision) / nullif(n_kreis_gemeinden, 0)
            as anteil_kreis_online
    from mit_vergleich
    where not online
      and (cast(n_peers_online as double precision) / nullif(n_peers, 0) > 0.5
           or cast(n_kreis_gemeinden_online as double precision)
              / nullif(n_kreis_gemeinden, 0) > 0.5)
),
stichtage as (
    -- The Land's Stichtage, numbered, and the first of them (the start of observation).
    select land, snapshot_date,
           row_number() over (partition by land order by snapshot_date) as nr,
           min(snapshot_date) over (partition by land) as erster_stichtag
    from (select distinct land, snapshot_date from {{ ref('int_kommunen') }}) stichtag
),
inseln as (
    -- Gaps-and-islands: consecutive snapshots with the same gap share one start date.
    select l.*, s.erster_stichtag, s.nr - row_number() over (
        partition by l.ars, l.leika_key order by l.snapshot_date
    ) as insel
    from luecken l join stichtage s using (land, snapshot_date)
)
select
    i.snapshot_date,
    i.land,
    i.ars,
    k.name,
    i.kommunenart,
    i.leika_key,
    le.leika_name,
    i.peer_gruppe,
    i.n_peers,
    i.n_peers_online,
    i.anteil_peers_online,
    i.kreis_ars,
    i.n_kreis_gemeinden,
    i.n_kreis_gemeinden_online,
    i.anteil_kreis_online,
    min(i.snapshot_date) over (partition by i.ars, i.leika_key, i.insel) as luecke_seit,
    min(i.snapshot_date) over (partition by i.ars, i.leika_key, i.insel)
        = i.erster_stichtag as luecke_seit_zensiert,
    {{ days_between('min(i.snapshot_date) over (partition by i.ars, i.leika_key, i.insel)',
                    'i.snapshot_date') }} as luecke_alter_tage,
    pk.leika_key is not null as im_prioritaetenkorb,
    row_number() over (
        partition by i.snapshot_date, i.ars
        order by i.n_peers_online desc, i.anteil_kreis_online desc nulls last, i.leika_key
    ) as rang,
    '{{ var("definition_version") }}' as definition_version,
    k.sample
from inseln i
join {{ ref('int_kommunen') }} k on k.snapshot_date = i.snapshot_date and k.ars = i.ars
left join {{ ref('stg_leistungen') }} le
    on le.snapshot_date = i.snapshot_date and le.leika_key = i.leika_key
left join (select distinct leika_key from {{ ref('priority_baskets') }}) pk
    on pk.leika_key = i.leika_key
