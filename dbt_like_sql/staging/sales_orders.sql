/* ---
description: Sales orders with their local order date (Europe/Berlin) and whether they went ahead.
owner: team:sales
materialized: view
tests:
  - unique: order_id
  - not_null: [order_id, tenant_id, customer_id, ordered_at, channel, status]
  - accepted_values: {column: channel, values: [counter, field, webshop, phone]}
  - relationships: {column: customer_id, to: raw.customers, field: customer_id}
  - relationships: {column: sold_by, to: staging.staff, field: staff_id}
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
