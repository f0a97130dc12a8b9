"""The ingest job and its 15-minute schedule."""

import dagster as dg

ingest_erp = dg.define_asset_job(
    "ingest_erp",
    selection=dg.AssetSelection.groups("source") | dg.AssetSelection.key_prefixes("raw"),
    description="Profile the ERP source and copy what changed into raw.*, validated.",
)

ingest_every_15_minutes = dg.ScheduleDefinition(
    name="ingest_erp_every_15_minutes",
    job=ingest_erp,
    cron_schedule="*/15 * * * *",
    execution_timezone="Europe/Berlin",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Keeps raw.* within 15 minutes of the ERP; the outbox sensors keep it fresher in between.",
)
