/* ---
description: Stock movements (signed quantities) with their local date.
owner: team:logistics
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: movement_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [movement_id, article_id, warehouse_id, quantity, kind, occurred_at]
  # warn: an unknown value is a row-level problem: the row stays and the check lists it
  - accepted_values:
      column: kind
      values: [receipt, sale, transfer_in, transfer_out, adjustment, loss]
      severity: warn
--- */
select
    movement_id,
    tenant_id,
    article_id,
    warehouse_id,
    quantity,
    kind,
    occurred_at,
    cast(occurred_at at time zone 'Europe/Berlin' as date) as movement_date,
    reference_id
from raw.stock_movements
