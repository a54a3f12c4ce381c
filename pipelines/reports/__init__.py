"""Workshop reports for facilitators, built from the published marts only: German HTML
Steckbriefe, the pilot comparison, an index of all Kommunen, a method page and an
Excel workbook (see ``build.py`` for the file layout).

The last layer: reads ``data/published/`` (``data.py``) and the mart definitions
(``pipelines.warehouse``), renders with the shared HTML environment (``pipelines.html``).
No Dagster here: the ``reports`` asset and ``ozg report`` call ``build_reports``."""

from pipelines.reports.build import ReportResult, build_reports, reports_root
from pipelines.reports.data import PilotLandMissing, ReportError

__all__ = ["PilotLandMissing", "ReportError", "ReportResult", "build_reports", "reports_root"]
