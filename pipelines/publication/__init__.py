"""The warehouse made public: what BI tools, spreadsheets and the reports read.

* ``publish.py`` — the atomic copy of the warehouse to ``data/published/ozg.duckdb`` and
  every mart exported as Parquet and German CSV behind an atomically flipped symlink;
* ``metric_dictionary.py`` — ``data/docs/metrikverzeichnis.html`` / ``.md`` from the
  dbt mart definitions (``pipelines.warehouse.mart_definitions``).

No Dagster here: the ``published/warehouse`` and ``docs/metrikverzeichnis`` assets wrap
these functions.
"""
