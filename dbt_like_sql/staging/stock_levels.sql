/* ---
description: Stock on hand and reserved per article and warehouse, and what is free to sell.
owner: team:logistics
materialized: view
tests:
  - unique: [article_id, warehouse_id]
  - not_null: [article_id, warehouse_id, on_hand]
--- */
select
    article_id,
    warehouse_id,
    tenant_id,
    on_hand,
    reserved,
    on_hand - reserved as available,
    updated_at
from raw.stock_levels
