-- One row per snapshot and LeiKa key. Every Land partition carries the catalogue; only the
-- flags (listed in the Land's Dashboard / PVOG data) may differ between Länder: they are
-- OR-ed over the Länder in the lake, the other columns come from the lowest Land code.
with je_land as (
    select
        *,
        bool_or(in_fim) over je_leistung as in_fim_alle,
        bool_or(in_dashboard) over je_leistung as in_dashboard_alle,
        bool_or(in_pvog) over je_leistung as in_pvog_alle,
        row_number() over (je_leistung order by land) as land_rang
    from {{ source('normalized', 'leistungen') }}
    window je_leistung as (partition by snapshot, leika_key)
)
select
    snapshot as snapshot_date,
    leika_key, leika_name, leika_bezeichnung, ozg_id, ozg_bezeichnung, themenfeld,
    typisierung, leistungsadressat,
    in_fim_alle as in_fim,
    in_dashboard_alle as in_dashboard,
    in_pvog_alle as in_pvog,
    source, sample
from je_land
where land_rang = 1
