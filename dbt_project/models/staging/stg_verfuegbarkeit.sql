-- Dashboard entries per query ARS, each query once per snapshot (the Bund's queries are in
-- every Land partition: macro one_partition_per_query).
-- land: the query's Land (first two digits of query_ars; '00' for the Bund's queries).
with gelesen as (
    {{ one_partition_per_query(source('normalized', 'verfuegbarkeit')) }}
)
select
    snapshot as snapshot_date,
    left(query_ars, 2) as land,
    query_ars, query_scope, leika_key, leika_name, ars as anbieter_ars, anbieter_ebene,
    ozg_id, url, online_status, aktiv, art_flaechendeckung, begruendung_nicht_beruecksichtigt,
    datenstand, sample,
    -- Definition v1 (docs/metrics.md §6.0): an entry makes a Leistung online when it has a
    -- non-empty URL and a working link; aktiv and the "nicht berücksichtigt" class are kept
    -- as flags only until their semantics are confirmed.
    (url is not null and url <> '' and online_status = 'ok') as eintrag_online
from gelesen
