"""The refresh the outbox sensor (`sensors/outbox.py`) starts: each run selects only what its batch
of events affects (the changed raw tables, what lies between them and the targets, the targets)."""

import dagster as dg

outbox_refresh = dg.define_asset_job(
    "outbox_refresh",
    selection=dg.AssetSelection.all(),
    description=(
        "Started by the outbox sensor, one run per batch of ERP events: ingests the changed tables and "
        "rebuilds what they affect (rules, cases, scores, alerts, marts, finance, reorder, event-bus health)."
    ),
)

events_health = dg.define_asset_job(
    "events_health",
    selection=dg.AssetSelection.groups("ingest_eventbus", "events"),
    description="Ingest the event bus's tables and rebuild the saga and dead-letter health marts.",
)

# the health marts refresh on their own clock too: a stuck saga shows even when no event arrives
events_health_every_15_minutes = dg.ScheduleDefinition(
    job=events_health,
    name="events_health_every_15_minutes",
    cron_schedule="7,22,37,52 * * * *",
    execution_timezone="Europe/Berlin",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Stuck sagas and dead letters show within 15 minutes, whether or not outbox events arrive.",
)
