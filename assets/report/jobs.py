"""The weekly officer report: rendered from what the hourly compliance run keeps fresh."""

import dagster as dg

compliance_report_weekly = dg.define_asset_job(
    "compliance_report_weekly",
    selection=dg.AssetSelection.groups("report"),
    description="Render and archive the compliance officer's report of every tenant (PDF, HTML, cases.xlsx).",
)


@dg.schedule(
    job=compliance_report_weekly,
    cron_schedule="30 6 * * 1",
    execution_timezone="Europe/Berlin",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every Monday at 6:30, after the night's compliance runs: the week's report for the officers.",
)
def compliance_report_every_monday(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return dg.RunRequest()
