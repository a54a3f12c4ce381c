-- Every area × Leistung where our coverage class and the API's Flächendeckung disagree:
-- listed, not hidden (docs/metrics.md §6.13).
select
    snapshot_date, land, leika_key, leika_name, gebietsebene, gebiet_ars, gebiet_name,
    n_gemeinden, n_gemeinden_online, abdeckung_anzahl, klasse, api_flaechendeckung,
    definition_version, sample
from {{ ref('mart_abdeckung_leistung_gebiet') }}
where abgleich_api = 'abweichend'
