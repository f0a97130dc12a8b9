/* ---
description: Warehouses and sales sites.
owner: team:logistics
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: warehouse_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [warehouse_id, tenant_id, name, state_code]
--- */
select warehouse_id, tenant_id, name, state_code, capacity_t
from raw.warehouses
