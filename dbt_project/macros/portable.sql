{#- Cross-database SQL (docs/postgres.md): the models build on DuckDB (the default target) and
    on PostgreSQL from the same SQL. Where the dialects differ, each macro renders one
    definition in both: the DuckDB form is the function the models used before (so DuckDB's
    marts stay bit for bit as they were), the PostgreSQL form computes the same value.
    Besides these: dbt.any_value (PostgreSQL: min) for values constant within the group,
    dbt.datediff for day differences (cast to bigint), and `double precision` as the float
    type (dbt.type_float() is a 4-byte FLOAT on DuckDB). -#}

{#- The median of a numeric expression, as double precision: the middle value of the non-null
    values, for an even count interpolated between the two middle ones as
    lo + (hi - lo) * 0.5 (DuckDB's quantile_cont, PostgreSQL's percentile_cont: the same
    formula); null without values. An aggregate only: PostgreSQL's ordered-set aggregates
    are no window functions, so a median per group is aggregated and joined back. A FILTER
    clause may follow. -#}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    median({{ expression }})
{%- endmacro %}

{% macro postgres__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{#- The value at the row with the smallest (arg_min) or largest (arg_max) key, over the rows
    where both are non-null (DuckDB's arg_min/arg_max). With tied keys either engine picks
    one of the tied rows: use it where the key is unique within the group. -#}
{% macro arg_min(value, key) -%}
    {{ return(adapter.dispatch('arg_min')(value, key)) }}
{%- endmacro %}

{% macro default__arg_min(value, key) -%}
    arg_min({{ value }}, {{ key }})
{%- endmacro %}

{% macro postgres__arg_min(value, key) -%}
    (array_agg({{ value }} order by {{ key }}) filter (
        where {{ value }} is not null and {{ key }} is not null))[1]
{%- endmacro %}

{% macro arg_max(value, key) -%}
    {{ return(adapter.dispatch('arg_max')(value, key)) }}
{%- endmacro %}

{% macro default__arg_max(value, key) -%}
    arg_max({{ value }}, {{ key }})
{%- endmacro %}

{% macro postgres__arg_max(value, key) -%}
    (array_agg({{ value }} order by {{ key }} desc) filter (
        where {{ value }} is not null and {{ key }} is not null))[1]
{%- endmacro %}

{#- Capture group `group` of the first match of `pattern` in `string`; '' without a match,
    null for a null string (DuckDB's regexp_extract). Patterns must mean the same in RE2
    and in PostgreSQL's regular expressions (character classes, {n}, groups: they do). -#}
{% macro regexp_extract(string, pattern, group) -%}
    {{ return(adapter.dispatch('regexp_extract')(string, pattern, group)) }}
{%- endmacro %}

{% macro default__regexp_extract(string, pattern, group) -%}
    regexp_extract({{ string }}, {{ pattern }}, {{ group }})
{%- endmacro %}

{% macro postgres__regexp_extract(string, pattern, group) -%}
    case when {{ string }} is not null
         then coalesce((regexp_match({{ string }}, {{ pattern }}))[{{ group }}], '') end
{%- endmacro %}

{#- Whether `pattern` matches the whole of `string` (DuckDB's regexp_full_match). -#}
{% macro regexp_full_match(string, pattern) -%}
    {{ return(adapter.dispatch('regexp_full_match')(string, pattern)) }}
{%- endmacro %}

{% macro default__regexp_full_match(string, pattern) -%}
    regexp_full_match({{ string }}, {{ pattern }})
{%- endmacro %}

{% macro postgres__regexp_full_match(string, pattern) -%}
    ({{ string }} ~ ('^(?:' || {{ pattern }} || ')$'))
{%- endmacro %}

{#- Whole days from the date `start` to the date `end`, as bigint (dbt.datediff gives an
    integer on PostgreSQL, a bigint on DuckDB). -#}
{% macro days_between(start, end) -%}
    cast({{ dbt.datediff('(' ~ start ~ ')', '(' ~ end ~ ')', 'day') }} as bigint)
{%- endmacro %}
