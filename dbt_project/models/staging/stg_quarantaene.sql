-- Rejected rows as each Land partition's build quarantined them (land = the partition's
-- Land): a log per partition, so nationwide rows rejected in several partitions stay apart.
select "table" as tabelle, land, snapshot as snapshot_date, reason_code, message, source,
       raw_file, record_ref, sample
from {{ source('quarantine', 'alle_tabellen') }}
