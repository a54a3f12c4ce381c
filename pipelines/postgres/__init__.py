"""PostgreSQL beside the DuckDB default (docs/deployment.md): the loader of the Parquet lake
into a server for the portable dbt build (``lake_load``) and the publication of the marts to
a schema that BI tools read (``publish``). Dagster-free, like every layer below the glue."""
