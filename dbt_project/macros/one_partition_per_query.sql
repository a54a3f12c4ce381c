{#- The rows of ``relation`` (a normalised lake table with columns land, snapshot,
    query_ars) from one Land partition per query: a Land partition holds the queries of its
    Kreise, inhabited Gemeinden and the Land itself, plus the Bund's (000000000000), which
    therefore appear in every Land partition. Each query ARS is taken from the partition
    with the lowest Land code holding it at that snapshot, never summed over Länder.
    Used by stg_verfuegbarkeit and stg_onlinedienste; the rows carry the extra column
    erste_land (a filtered subquery instead of QUALIFY, which PostgreSQL lacks). -#}
{% macro one_partition_per_query(relation) -%}
    select *
    from (
        select *, min(land) over (partition by snapshot, query_ars) as erste_land
        from {{ relation }}
    ) je_abfrage
    where land = erste_land
{%- endmacro %}
