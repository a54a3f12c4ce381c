"""Data quality of the normalised tables: what a partition must satisfy and what it did.

* ``suites.py`` — the great-expectations suites in ``expectations/`` (blocking or
  warning per expectation) and the validation of a frame against one;
* ``report.py`` — ``data/quality/report.html``, rebuilt from every stored validation.

The gate that stages, validates and promotes a partition is the normalisation step that
uses them (``pipelines/normalisation/gate.py``). No Dagster here.
"""
