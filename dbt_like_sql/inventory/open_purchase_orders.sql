/* ---
description: >
  Goods on order: open purchase order lines not yet received, summed per article, warehouse and
  expected delivery day. The reorder plan counts those expected by the as-of day plus the
  article's lead time as available (overdue ones included: they are still coming).
owner: team:purchasing
materialized: view
columns:
  tenant_id: The tenant (company).
  article_id: The article's key.
  warehouse_id: The receiving warehouse.
  expected_on: Delivery day the supplier confirmed.
  quantity: Quantity still to arrive, in the article's unit.
  po_lines: Purchase order lines behind it.
tests:
  - unique: [article_id, warehouse_id, expected_on]
  - not_null: [article_id, warehouse_id, quantity]
--- */
select
    tenant_id,
    article_id,
    warehouse_id,
    expected_on,
    sum(quantity) as quantity,
    count(*) as po_lines
from staging.purchase_order_lines
where po_status = 'open' and received_at is null and quantity > 0
group by all
