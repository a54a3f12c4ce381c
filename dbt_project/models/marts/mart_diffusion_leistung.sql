-- Speed of diffusion per Leistung and Land: first snapshot at which 50 % / 90 % of the
-- competent Kommunen of the Land had it online, and the days from the Land's first
-- availability t0.
with verlauf as (
    select * from {{ ref('mart_diffusion_verlauf') }}
),
t0 as (
    select land, leika_key, min(snapshot_date) filter (where n_online > 0) as t0_land,
           min(snapshot_date) as erster_stichtag, max(snapshot_date) as letzter_stichtag
    from verlauf
    group by land, leika_key
)
select
    v.land,
    v.leika_key,
    l.leika_name,
    t.t0_land,
    t.t0_land = t.erster_stichtag as t0_links_zensiert,
    min(v.snapshot_date) filter (where v.anteil_online >= 0.5) as t50,
    min(v.snapshot_date) filter (where v.anteil_online >= 0.9) as t90,
    {{ days_between('t.t0_land', 'min(v.snapshot_date) filter (where v.anteil_online >= 0.5)') }}
        as tage_bis_50,
    {{ days_between('t.t0_land', 'min(v.snapshot_date) filter (where v.anteil_online >= 0.9)') }}
        as tage_bis_90,
    -- snapshot_date is unique per Land and Leistung in mart_diffusion_verlauf.
    {{ arg_max('v.anteil_online', 'v.snapshot_date') }} as anteil_online_aktuell,
    {{ arg_max('v.n_kommunen', 'v.snapshot_date') }} as n_kommunen,
    '{{ var("definition_version") }}' as definition_version,
    bool_and(v.sample) as sample
from verlauf v
join t0 t using (land, leika_key)
left join {{ ref('stg_leistungen') }} l
    on l.snapshot_date = t.letzter_stichtag and l.leika_key = v.leika_key
group by v.land, v.leika_key, l.leika_name, t.t0_land, t.erster_stichtag
