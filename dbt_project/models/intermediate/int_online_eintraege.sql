-- Working entries per providing ARS, from the "own entries" pulls (includeAbove=false):
-- the building blocks of every Kommune's citizen view.
select snapshot_date, anbieter_ars, leika_key,
       min(url) as url,
       count(distinct url) as n_urls
from {{ ref('stg_verfuegbarkeit') }}
where query_scope = 'own' and eintrag_online
group by snapshot_date, anbieter_ars, leika_key
