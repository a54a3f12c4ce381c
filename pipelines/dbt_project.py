"""The dbt project as Dagster sees it — alone in this module, as dagster-dbt requires
(``prepare-and-package`` imports it before a manifest exists). The plain paths and the
dbt invocation helpers are in ``pipelines/warehouse.py``, which imports no Dagster."""

from __future__ import annotations

from dagster_dbt import DbtProject

from pipelines.warehouse import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
