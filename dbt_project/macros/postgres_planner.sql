{#- Post-hook: on PostgreSQL, fresh planner statistics for the table just built, so the next
    model's joins are planned on real row counts (autovacuum would analyze it only later;
    without statistics PostgreSQL picks nested loops that take minutes). Renders nothing on
    DuckDB and for views, and dbt skips an empty hook. -#}
{% macro analyze_on_postgres() -%}
    {%- if target.type == 'postgres' and config.get('materialized') in ('table', 'seed') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of models whose joins PostgreSQL misplans: an inner join on columns derived in
    a CTE (no statistics) is estimated at one row, and the joins after it become nested
    loops over whole tables (minutes instead of a second). Hash and merge joins only, for
    this model's transaction; plans change, results do not. Nothing on DuckDB. -#}
{% macro postgres_without_nested_loops() -%}
    {%- if target.type == 'postgres' -%}
        set local enable_nestloop = off
    {%- endif -%}
{%- endmacro %}
