/* ---
description: Stock on hand and reserved per article and warehouse, and what is free to sell.
owner: team:logistics
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: [article_id, warehouse_id]
  # error: the ingest rejects source rows without these; a null here means this model broke them
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
