"""Raw landing → the four normalised tables in the lake (``data/normalized/``).

* ``rules.py`` — the normalisation rules (ARS repair, AGS ↔ ARS, text, dates, enums);
* ``normalize.py`` — the normaliser skeleton every table shares (judge, split, select,
  deduplicate, quarantine): typed rows with lineage in the table's contract schema
  (``pipelines/quality/contracts.py``), and the rejected rows with a reason code;
* ``normalizers/`` — one ``normalize_<table>`` per table with only its own checks, column
  selection and duplicate order;
* ``gate.py`` — write-audit-publish of one partition: stage, validate against its suite
  (``pipelines/quality``), promote or reject;
* ``tables.py`` — one table for one snapshot: read the raw landing (``sources``),
  normalise, gate; skipped when an identical build is already promoted;
* ``reference/`` — reference lists the rules use (Sonderstatusstädte).

No Dagster here: the ``normalized/*`` assets in ``pipelines/defs/normalized.py`` wrap
``tables.build``.
"""
