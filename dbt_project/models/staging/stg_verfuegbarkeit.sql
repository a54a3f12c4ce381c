select
    snapshot as snapshot_date,
    query_ars, perspective, leika_key, leika_name, ars as anbieter_ars, anbieter_ebene,
    ozg_id, url, online_status, aktiv, art_flaechendeckung, begruendung_nicht_beruecksichtigt,
    datenstand, sample,
    -- Definition v1 (metrics.md §6.0): an entry makes a Leistung online when it has a
    -- non-empty URL and a working link; aktiv and the "nicht berücksichtigt" class are kept
    -- as flags only until their semantics are confirmed.
    (url is not null and url <> '' and online_status = 'ok') as eintrag_online
from {{ source('normalized', 'verfuegbarkeit') }}
