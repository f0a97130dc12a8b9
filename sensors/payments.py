"""Payment runs follow the Skonto schedule: each new materialisation of finance/skonto_schedule
requests exactly one run of `finance_payment_run` (run_key = the plan's run id). The sensor only
reads Dagster's event log; it never opens the warehouse."""

import dagster as dg

from assets.finance import payments
from assets.finance.schedule import SCHEDULE_KEY


@dg.asset_sensor(
    asset_key=SCHEDULE_KEY,
    job=payments.finance_payment_run,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Starts the SEPA payment run for each new Skonto schedule (once per plan).",
)
def payment_run_on_new_schedule(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    plan_id = asset_event.run_id
    context.log.info(f"new Skonto schedule {plan_id}: requesting its payment run")
    return dg.RunRequest(run_key=f"skonto_schedule:{plan_id}", run_config=payments.payment_run_config(plan_id))
