{#- A condition every row satisfies (SQL over the model's columns), e.g. that an estimate
    lies inside its interval. -#}
{% test row_condition(model, condition) %}
select * from {{ model }} where not coalesce(({{ condition }}), false)
{% endtest %}
