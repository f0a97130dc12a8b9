/* ---
description: Stock movements (signed quantities) with their local date.
owner: team:logistics
materialized: view
tests:
  - unique: movement_id
  - not_null: [movement_id, article_id, warehouse_id, quantity, kind, occurred_at]
  - accepted_values: {column: kind, values: [receipt, sale, transfer_in, transfer_out, adjustment, loss]}
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
