{#- A Land is named by its two-digit code 01–16 (kept as text: "06", never 6). -#}
{% test land_code(model, column_name) %}
select {{ column_name }}
from {{ model }}
where not {{ regexp_full_match(column_name, "'0[1-9]|1[0-6]'") }}
{% endtest %}
