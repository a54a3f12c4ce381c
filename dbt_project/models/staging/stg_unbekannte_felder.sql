-- Fields a source delivered that its contract does not declare (additive drift), as each
-- Land partition's build recorded them: kept in the raw landing, never a reason to reject.
-- One source per normalised table (lineage to its asset), in name order.
{% for tabelle in ['gebiete', 'leistungen', 'onlinedienste', 'verfuegbarkeit'] %}
{% if not loop.first %}union all
{% endif %}select "table" as tabelle, land, snapshot as snapshot_date, source as quelle, field as feld,
       records as datensaetze, first_record as erster_datensatz, url, sample
from {{ source('quality', tabelle) }}
{% endfor %}
