select "table" as tabelle, snapshot as snapshot_date, reason_code, message, source, raw_file,
       record_ref, sample
from {{ source('quarantine', 'alle_tabellen') }}
