"""The officer report asset: reads the warehouse (read-only) and writes one report per tenant into
the archive. Which tenant is run configuration (empty: every tenant the compliance engine judged),
so the UI's launchpad and `neuroerp report --tenant` render one on demand."""

import datetime as dt
from pathlib import Path

import dagster as dg
from pydantic import Field

from assets.freshness import WEEKLY
from assets.resources import Warehouse
from assets.run_order import run_order_tags
from assets.sqlmodels.factory import relation_key
from neuroerp.report import write_reports
from neuroerp.report.data import READS

OWNERS = ["team:compliance"]


class ReportConfig(dg.Config):
    tenant: str = Field(default="", description="Render only this tenant's report; empty: every tenant.")


@dg.asset(
    key=["report", "compliance_report"],
    deps=list(dict.fromkeys(relation_key(r) for r in READS)),
    group_name="report",
    kinds={"python", "pdf", "html", "excel"},
    owners=OWNERS,
    freshness_policy=WEEKLY,
    pool="duckdb_warehouse",
    op_tags=run_order_tags("report.compliance_report"),
)
def compliance_report(
    context: dg.AssetExecutionContext, config: ReportConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    """The compliance officer's report per tenant, in German: cover with the overall score, the
    weakest area and a badge per area, the trend per area, every area's rules with legal basis, open
    cases by severity with their evidence in words and the last decision, cases closed since the
    previous report, the highest-risk customers, suppliers, articles and branches, relevant audit
    actions, and an appendix of every rule. Writes NEUROERP_HOME/reports/compliance/<tenant>/<UTC
    timestamp>/ (report.html, report.pdf, cases.xlsx), never overwritten, each file listed with its
    SHA-256 in reports/manifest.jsonl (`neuroerp report verify` checks them)."""
    with warehouse.connect(read_only=True) as conn:
        reports = write_reports(conn, Path(warehouse.home) / "reports", config.tenant or None, dt.datetime.now(dt.UTC))
    for r in reports:
        context.log.info(f"{r.tenant}: {r.open_cases} open cases, score {r.score_pct} ({r.status}) in {r.folder}")
    return dg.MaterializeResult(
        metadata={
            "folders": dg.MetadataValue.json({r.tenant: str(r.folder) for r in reports}),
            "open_cases": dg.MetadataValue.json({r.tenant: r.open_cases for r in reports}),
            "overall_score_pct": dg.MetadataValue.json({r.tenant: r.score_pct for r in reports}),
            "pdf": dg.MetadataValue.json(
                {r.tenant: next(str(f.path) for f in r.files if f.path.name == "report.pdf") for r in reports}
            ),
        }
    )
