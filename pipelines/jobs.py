"""Jobs and schedules over the asset graph."""

import dagster as dg

from assets.ingest.raw_tables import RAW_ASSETS
from assets.source.profile import erp_source_profile

ingest_job = dg.define_asset_job(
    "ingest_erp",
    selection=dg.AssetSelection.assets(erp_source_profile, *RAW_ASSETS),
    description="Profile the ERP source and copy what changed into raw.*, validated.",
)

ingest_schedule = dg.ScheduleDefinition(
    name="ingest_erp_every_15_minutes",
    job=ingest_job,
    cron_schedule="*/15 * * * *",
    execution_timezone="Europe/Berlin",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Catch-up ingest; the outbox sensors keep the warehouse fresher in between.",
)
