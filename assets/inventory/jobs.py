"""The daily purchasing run: ingest what changed, staging, the forecast, the plan and the export."""

import dagster as dg

from assets.compliance.run_config import tick_day_request

inventory_daily = dg.define_asset_job(
    "inventory_daily",
    selection=dg.AssetSelection.groups("inventory").upstream().required_multi_asset_neighbors(),
    description=(
        "Ingest what changed, rebuild staging, forecast demand with its backtest, plan every article and "
        "warehouse, and export the Bestellvorschlag for purchasing."
    ),
)


@dg.schedule(
    job=inventory_daily,
    cron_schedule="30 5 * * *",
    execution_timezone="Europe/Berlin",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Fresh proposals before purchasing starts, every morning at 5:30; plans for the tick's day.",
)
def inventory_every_morning(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return tick_day_request(context)
