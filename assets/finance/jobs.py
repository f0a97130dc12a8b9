"""The finance capability's daily job: the Skonto schedule and the marts, after a catch-up ingest."""

import dagster as dg

from assets.finance.schedule import SkontoConfig

SKONTO_OP = "finance__skonto_schedule"

finance_daily = dg.define_asset_job(
    "finance_daily",
    selection=dg.AssetSelection.groups("finance").upstream().required_multi_asset_neighbors(),
    description="Ingest what changed in the ERP, plan the Skonto payments, rebuild the finance marts.",
)


@dg.schedule(
    job=finance_daily,
    cron_schedule="30 6 * * *",
    execution_timezone="Europe/Berlin",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="A fresh Skonto plan (and through the payments sensor, a payment run) every morning.",
)
def finance_every_morning(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    day = context.scheduled_execution_time.date().isoformat()
    config = SkontoConfig(plan_day=day)
    return dg.RunRequest(run_config={"ops": {SKONTO_OP: {"config": config.model_dump()}}}, tags={"neuroerp/as_of": day})
