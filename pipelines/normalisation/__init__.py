"""Raw landing → the four normalised tables in the lake (``data/normalized/``).

* ``rules.py`` — the normalisation rules (ARS repair, AGS ↔ ARS, text, dates, enums);
* ``normalize.py`` — one ``normalize_*`` per table: typed rows with lineage, and the
  rejected rows with a reason code (quarantine);
* ``gate.py`` — write-audit-publish of one partition: stage, validate against its suite
  (``pipelines/quality``), promote or reject;
* ``tables.py`` — one table for one snapshot: read the raw landing (``sources``),
  normalise, gate; skipped when an identical build is already promoted;
* ``reference/`` — reference lists the rules use (Sonderstatusstädte).

No Dagster here: the ``normalized/*`` assets in ``pipelines/defs/normalized.py`` wrap
``tables.build``.
"""
