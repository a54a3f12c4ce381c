"""The OZG pipeline after the raw landing, one package per layer of the data:

raw (``sources/``) → ``normalisation/`` (with ``quality/`` and ``lake.py``) → the dbt
warehouse (``warehouse.py``, ``dbt_project/``) → ``publication/`` → ``reports/``;
``html/`` serves every HTML page. None of these imports Dagster: the Dagster glue is
``defs/``, ``definitions.py``, ``dbt_project.py``, ``partitions.py``, ``resources.py``
and ``cli.py``.
"""
