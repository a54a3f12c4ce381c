-- Online services per query ARS, each query once per snapshot: the Bund's rows
-- (000000000000) are in every Land partition and are taken from the lowest Land code.
-- land: the query's Land (first two digits of query_ars; '00' for the Bund).
with gelesen as (
    select *, min(land) over (partition by snapshot, query_ars) as erste_partition
    from {{ source('normalized', 'onlinedienste') }}
)
select
    snapshot as snapshot_date,
    left(query_ars, 2) as land,
    query_ars, id_lb, leika_key, leistung_name, id_od, onlinedienst_name, link, sample
from gelesen
where land = erste_partition
