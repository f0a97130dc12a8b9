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

compliance_job = dg.define_asset_job(
    "compliance_hourly",
    selection=dg.AssetSelection.groups("compliance").upstream().required_multi_asset_neighbors(),
    description="Ingest what changed, rebuild staging, run every compliance rule, update violations and scores.",
)

compliance_schedule = dg.ScheduleDefinition(
    name="compliance_every_hour",
    job=compliance_job,
    cron_schedule="5 * * * *",
    execution_timezone="Europe/Berlin",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="The compliance monitor's interval: every hour, five minutes past.",
)
