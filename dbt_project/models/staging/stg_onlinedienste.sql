-- Online services per query ARS, each query once per snapshot (the Bund's rows are in every
-- Land partition: macro one_partition_per_query).
-- land: the query's Land (first two digits of query_ars; '00' for the Bund).
with gelesen as (
    {{ one_partition_per_query(source('normalized', 'onlinedienste')) }}
)
select
    snapshot as snapshot_date,
    left(query_ars, 2) as land,
    query_ars, id_lb, leika_key, leistung_name, id_od, onlinedienst_name, link, sample
from gelesen
