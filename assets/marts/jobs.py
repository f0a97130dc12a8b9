"""The marts' daily rebuild."""

import dagster as dg

marts_daily = dg.define_asset_job(
    "marts_daily",
    selection=dg.AssetSelection.groups("staging", "marts"),
    description="Rebuild the staging views and the marts from the warehouse as the last ingest left it.",
)

marts_every_morning = dg.ScheduleDefinition(
    name="marts_every_morning",
    job=marts_daily,
    cron_schedule="0 6 * * *",
    execution_timezone="Europe/Berlin",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Fresh marts before the working day starts.",
)
