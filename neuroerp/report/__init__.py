"""The compliance officer's report: gathered read-only from the warehouse, rendered to HTML, an A4
PDF and cases.xlsx, archived under NEUROERP_HOME/reports/compliance/ (see neuroerp.archive)."""

from neuroerp.report.render import Report, write_reports

__all__ = ["Report", "write_reports"]
