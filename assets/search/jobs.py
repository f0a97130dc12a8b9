"""The search index's sync job and its schedule, five minutes after each ingest."""

import dagster as dg

search_sync = dg.define_asset_job(
    "search_sync",
    selection=dg.AssetSelection.groups("search"),
    description="Embed what changed in articles and customers into LanceDB; forget erased customers.",
)

search_every_15_minutes = dg.ScheduleDefinition(
    name="search_every_15_minutes",
    job=search_sync,
    cron_schedule="5,20,35,50 * * * *",
    execution_timezone="Europe/Berlin",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Five minutes after each ingest: what changed in the ERP is searchable, and what was erased "
    "is forgotten, within 20 minutes.",
)
