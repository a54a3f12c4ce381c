-- Rejected rows as each Land partition's build quarantined them (land = the partition's
-- Land): a log per partition, so nationwide rows rejected in several partitions stay apart.
-- One quarantine source per normalised table (lineage to its asset), in name order.
{% for tabelle in ['gebiete', 'leistungen', 'onlinedienste', 'verfuegbarkeit'] %}
{% if not loop.first %}union all
{% endif %}select "table" as tabelle, land, snapshot as snapshot_date, reason_code, message, source,
       raw_file, record_ref, sample
from {{ source('quarantine', tabelle) }}
{% endfor %}
