{#- The rows of ``relation`` (a normalised lake table with columns land, snapshot,
    query_ars) from one Land partition per query: a Land partition holds the queries of its
    Kreise, inhabited Gemeinden and the Land itself, plus the Bund's (000000000000), which
    therefore appear in every Land partition. Each query ARS is taken from the partition
    with the lowest Land code holding it at that snapshot, never summed over Länder.
    Used by stg_verfuegbarkeit and stg_onlinedienste. -#}
{% macro one_partition_per_query(relation) -%}
    select *
    from {{ relation }}
    qualify land = min(land) over (partition by snapshot, query_ars)
{%- endmacro %}
