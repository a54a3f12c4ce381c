"""Workshop reports (German HTML Steckbriefe, pilot comparison, index, workbook), built
from the published marts after every publication."""

import dagster as dg

from pipelines.defs.publish import published_warehouse
from pipelines.publication.inputs import read_inputs, write_inputs
from pipelines.publication.publish import current_publication
from pipelines.reports import PilotLandMissing, build_reports
from pipelines.reports.build import reports_root
from pipelines.reports.data import PILOT_LAND
from pipelines.resources import OzgSettings


@dg.asset(
    key=["published", "reports"],
    group_name="published",
    deps=[published_warehouse],
    kinds={"html", "excel"},
    description=(
        "data/published/reports/: one Steckbrief per pilot Kommune, the pilot comparison, "
        "an index of all Kommunen, the roll-out drivers (treiber.html), the method page and "
        "the Excel workbook – read from the "
        "published marts only (`ozg report` renders the same without running the pipeline)."
    ),
)
def published_reports(ozg: OzgSettings) -> dg.MaterializeResult:
    settings = ozg.settings()
    built_from = read_inputs(current_publication(settings.data_dir))
    try:
        result = build_reports(settings.data_dir)
    except PilotLandMissing as missing:
        # A run over other Länder only: the marts are published, the reports (about the
        # pilot Kommunen) stay as they were, and the run says why.
        if built_from is not None:
            write_inputs(reports_root(settings.data_dir), built_from)
        return dg.MaterializeResult(
            metadata={
                "mode": settings.mode,
                "empty_reason": f"keine Berichte erzeugt: {missing} (die Berichte gelten den "
                f"Pilotkommunen in Land {PILOT_LAND})",
            }
        )
    if built_from is not None:  # every page is written: the reports are of that publication
        write_inputs(reports_root(settings.data_dir), built_from)
    return dg.MaterializeResult(
        metadata={
            "mode": settings.mode,
            "sample": result.sample,
            "snapshot": result.snapshot.isoformat(),
            "reports_dir": dg.MetadataValue.path(str(result.out_dir)),
            "index": dg.MetadataValue.path(str(result.index)),
            "steckbriefe": len(result.steckbriefe),
            "drivers": dg.MetadataValue.path(str(result.drivers)),
            "workbook": dg.MetadataValue.path(str(result.workbook)),
            # Why the pages carry no figures, when the Kommune marts were empty.
            "empty_reason": result.empty_reason or "",
        }
    )
