select
    snapshot as snapshot_date,
    query_ars, id_lb, leika_key, leistung_name, id_od, onlinedienst_name, link, sample
from {{ source('normalized', 'onlinedienste') }}
