{#- A key of the row's own Land: an ARS or a peer group ("<LL>|…") starts with the row's
    land code, so no row is compared within or attributed to another Land. -#}
{% test same_land(model, column_name) %}
select land, {{ column_name }}
from {{ model }}
where left({{ column_name }}, 2) <> land
{% endtest %}
