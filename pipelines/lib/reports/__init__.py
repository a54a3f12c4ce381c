"""Workshop reports for facilitators, built from the published marts only: German HTML
Steckbriefe, the pilot comparison, an index of all Kommunen, a method page and an
Excel workbook (see ``build.py`` for the file layout)."""

from pipelines.lib.reports.build import ReportResult, build_reports, reports_root
from pipelines.lib.reports.data import ReportError

__all__ = ["ReportError", "ReportResult", "build_reports", "reports_root"]
