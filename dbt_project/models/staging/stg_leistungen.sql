select
    snapshot as snapshot_date,
    leika_key, leika_name, leika_bezeichnung, ozg_id, ozg_bezeichnung, themenfeld,
    typisierung, leistungsadressat, in_fim, in_dashboard, in_pvog, source, sample
from {{ source('normalized', 'leistungen') }}
