/* ---
description: Sales orders with their local order date (Europe/Berlin) and whether they went ahead.
owner: team:sales
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: order_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [order_id, tenant_id, customer_id, ordered_at, channel, status]
  # warn: an unknown value is a row-level problem: the row stays and the check lists it
  - accepted_values: {column: channel, values: [counter, field, webshop, phone], severity: warn}
  # warn: an orphan (its parent deleted at the source since) is row-level: it stays, the check lists it
  - relationships: {column: customer_id, to: raw.customers, field: customer_id, severity: warn}
  # warn: an orphan (its parent deleted at the source since) is row-level: it stays, the check lists it
  - relationships: {column: sold_by, to: staging.staff, field: staff_id, severity: warn}
--- */
select
    o.order_id,
    o.tenant_id,
    o.order_no,
    o.customer_id,
    o.ordered_at,
    cast(o.ordered_at at time zone 'Europe/Berlin' as date) as order_date,
    o.channel,
    o.status,
    o.status <> 'cancelled' as went_ahead,
    o.sold_by
from raw.sales_orders as o
