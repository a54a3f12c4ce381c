-- One row per snapshot and LeiKa key. Every Land partition carries the catalogue; only the
-- flags (listed in the Land's Dashboard / PVOG data) may differ between Länder: they are
-- OR-ed over the Länder in the lake, the other columns come from the lowest Land code.
select
    snapshot as snapshot_date,
    leika_key, leika_name, leika_bezeichnung, ozg_id, ozg_bezeichnung, themenfeld,
    typisierung, leistungsadressat,
    bool_or(in_fim) over je_leistung as in_fim,
    bool_or(in_dashboard) over je_leistung as in_dashboard,
    bool_or(in_pvog) over je_leistung as in_pvog,
    source, sample
from {{ source('normalized', 'leistungen') }}
window je_leistung as (partition by snapshot, leika_key)
qualify row_number() over (partition by snapshot, leika_key order by land) = 1
