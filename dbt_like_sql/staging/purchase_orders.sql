/* ---
description: Purchase orders to suppliers.
owner: team:purchasing
materialized: view
tests:
  - unique: po_id
  - not_null: [po_id, tenant_id, supplier_id, ordered_at, status]
  - relationships: {column: supplier_id, to: raw.suppliers, field: supplier_id}
--- */
select po_id, tenant_id, supplier_id, po_no, ordered_at, expected_on, status
from raw.purchase_orders
