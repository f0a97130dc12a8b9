/* ---
description: Warehouses and sales sites.
owner: team:logistics
materialized: view
tests:
  - unique: warehouse_id
  - not_null: [warehouse_id, tenant_id, name, state_code]
--- */
select warehouse_id, tenant_id, name, state_code, capacity_t
from raw.warehouses
