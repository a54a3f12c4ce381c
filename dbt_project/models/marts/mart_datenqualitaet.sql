-- Data quality and freshness per Land, table and snapshot (docs/metrics.md §6.12):
-- rows promoted in the Land's partition, rows its build quarantined with reasons, the rows
-- whose ARS the selected Gemeindeverzeichnis edition does not know (counted apart: the
-- remedy is a newer edition, not a fix of the data), the fields the sources delivered
-- beyond their contracts, the Leistungen without a Zuständigkeit, and the age of the API's
-- Datenstand at the snapshot. Counted per Land partition as delivered (nationwide tables
-- and the Bund's queries are part of every Land's delivery).
{%- set ars_aus_meldung = regexp_extract('message', "'ars ([0-9]{12})'", 1) %}
with zeilen as (
    select land, snapshot_date, tabelle, zeilen from {{ ref('stg_lake_partitionen') }}
),
quarantaene as (
    select land, snapshot_date, tabelle, cast(sum(n) as bigint) as zeilen_quarantaene,
           string_agg(reason_code || ': ' || n, ', ' order by reason_code) as gruende
    from (select land, snapshot_date, tabelle, reason_code, count(*) as n
          from {{ ref('stg_quarantaene') }}
          group by land, snapshot_date, tabelle, reason_code) je_grund
    group by land, snapshot_date, tabelle
),
zustaendigkeit as (
    -- Leistungen without any Zuständigkeit count in no denominator: listed in
    -- mart_zustaendigkeit_leistung, counted here on the leistungen row.
    select land, snapshot_date, 'leistungen' as tabelle,
           count(*) filter (where not zugeordnet) as leistungen_nicht_zugeordnet,
           count(*) filter (where not zugeordnet and n_kommunen_eigen > 0)
               as leistungen_nicht_zugeordnet_mit_eintraegen
    from {{ ref('int_leistung_zustaendigkeit') }}
    group by land, snapshot_date
),
gebietsstand as (
    select land, snapshot_date, tabelle, count(*) as zeilen_gebietsstand_unbekannt,
           string_agg(distinct {{ ars_aus_meldung }}, ', ' order by {{ ars_aus_meldung }})
               as ars_gebietsstand_unbekannt
    from {{ ref('stg_quarantaene') }}
    where reason_code = 'ars_not_in_gebietsstand'
    group by land, snapshot_date, tabelle
),
felder as (
    select land, snapshot_date, tabelle, count(*) as n_unbekannte_felder,
           string_agg(quelle || ': ' || feld || ' (' || datensaetze || ')', ', '
                      order by quelle, feld) as unbekannte_felder
    from {{ ref('stg_unbekannte_felder') }}
    group by land, snapshot_date, tabelle
),
stand as (
    select land, snapshot_date, datenstand, sample
    from {{ ref('stg_lake_partitionen') }} where tabelle = 'verfuegbarkeit'
)
select
    z.snapshot_date,
    z.land,
    z.tabelle,
    z.zeilen,
    coalesce(q.zeilen_quarantaene, 0) as zeilen_quarantaene,
    cast(coalesce(q.zeilen_quarantaene, 0) as double precision)
        / nullif(z.zeilen + coalesce(q.zeilen_quarantaene, 0), 0) as anteil_quarantaene,
    q.gruende,
    coalesce(g.zeilen_gebietsstand_unbekannt, 0) as zeilen_gebietsstand_unbekannt,
    g.ars_gebietsstand_unbekannt,
    coalesce(f.n_unbekannte_felder, 0) as n_unbekannte_felder,
    f.unbekannte_felder,
    zu.leistungen_nicht_zugeordnet,
    zu.leistungen_nicht_zugeordnet_mit_eintraegen,
    s.datenstand,
    {{ days_between('s.datenstand', 'z.snapshot_date') }} as alter_datenstand_tage,
    '{{ var("definition_version") }}' as definition_version,
    s.sample
from zeilen z
left join quarantaene q
    on q.land = z.land and q.snapshot_date = z.snapshot_date and q.tabelle = z.tabelle
left join gebietsstand g
    on g.land = z.land and g.snapshot_date = z.snapshot_date and g.tabelle = z.tabelle
left join felder f
    on f.land = z.land and f.snapshot_date = z.snapshot_date and f.tabelle = z.tabelle
left join zustaendigkeit zu
    on zu.land = z.land and zu.snapshot_date = z.snapshot_date and zu.tabelle = z.tabelle
left join stand s on s.land = z.land and s.snapshot_date = z.snapshot_date
