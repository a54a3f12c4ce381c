{#- A rate (share) must lie in [0, 1]; nulls (undefined denominators) are allowed. -#}
{% test rate_between_zero_and_one(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < 0 or {{ column_name }} > 1
{% endtest %}
