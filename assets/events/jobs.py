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
