"""The hourly compliance run: ingest what changed, rebuild staging, every rule, history, scores."""

import dagster as dg

from assets.compliance.run_config import tick_day_request

compliance_hourly = dg.define_asset_job(
    "compliance_hourly",
    selection=dg.AssetSelection.groups("compliance").upstream().required_multi_asset_neighbors(),
    description="Ingest what changed, rebuild staging, run every compliance rule, update violations and scores.",
)


@dg.schedule(
    job=compliance_hourly,
    cron_schedule="5 * * * *",
    execution_timezone="Europe/Berlin",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="The compliance monitor's interval: every hour, five minutes past; judges the tick's day.",
)
def compliance_every_hour(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return tick_day_request(context)
