/* ---
description: >
  Sales order lines with their order's customer, date, channel and seller, the net value of the
  line and the lot the goods were taken from (`batch_no`, contract 1.1). Lines of cancelled orders are kept and marked. A line with a negative quantity (returns
  are documents of their own) or whose order is missing is left out; quarantine.model_rows keeps it
  with the reason.
owner: team:sales
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: line_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [line_id, order_id, article_id, quantity, unit_price]
  # error: orphans are quarantined below, so a failure here means this model's join is broken
  - relationships: {column: order_id, to: staging.sales_orders, field: order_id}
quarantine:
  # warn, not error: a wrong line is a row-level problem; the other lines and every model after go on
  - name: negative_quantity
    where: quantity < 0
    reason: a sales line with a negative quantity (returns are booked as documents of their own)
  - name: order_missing
    where: order_date is null
    reason: the line's order is not in the warehouse (deleted at the source since)
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
    l.delivery_state_code,
    l.batch_no
from raw.sales_order_lines as l
left join staging.sales_orders as o on o.order_id = l.order_id
