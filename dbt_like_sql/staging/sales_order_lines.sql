/* ---
description: >
  Sales order lines with their order's customer, date, channel and seller, and the net value of
  the line. Lines of cancelled orders are kept and marked.
owner: team:sales
materialized: view
tests:
  - unique: line_id
  - not_null: [line_id, order_id, article_id, quantity, unit_price]
  - relationships: {column: order_id, to: staging.sales_orders, field: order_id}
  - expression:
      name: no_negative_quantities
      sql: "select * from {{ this }} where quantity < 0"
--- */
select
    l.line_id,
    l.tenant_id,
    l.order_id,
    o.customer_id,
    o.ordered_at,
    o.order_date,
    o.channel,
    o.sold_by,
    o.went_ahead,
    l.article_id,
    l.warehouse_id,
    l.quantity,
    l.unit_price,
    cast(l.quantity * l.unit_price as decimal(18, 2)) as net_amount,
    l.delivered_at,
    l.delivery_state_code
from raw.sales_order_lines as l
join staging.sales_orders as o on o.order_id = l.order_id
