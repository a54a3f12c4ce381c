"""Data quality of the normalised tables: what a partition must satisfy and what it did.

* ``contracts.py`` — the contract of each normalised table (schema, grain, non-null
  columns), declared once; the normalisers, the suites, the dbt sources (checked by
  ``tests/unit/test_contracts.py``) and the Dagster column schemas derive from it;
* ``suites.py`` — the great-expectations suites: structural expectations generated from
  the contract, semantic ones in ``expectations/`` (severity critical or warning per
  expectation), and the validation of a frame against one;
* ``report.py`` — ``data/quality/report.html``, rebuilt from every stored validation.

The gate that stages, validates and promotes a partition is the normalisation step that
uses them (``pipelines/normalisation/gate.py``). No Dagster here.
"""
