/* ---
description: Purchase orders to suppliers.
owner: team:purchasing
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: po_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [po_id, tenant_id, supplier_id, ordered_at, status]
  # warn: an orphan (its parent deleted at the source since) is row-level: it stays, the check lists it
  - relationships: {column: supplier_id, to: raw.suppliers, field: supplier_id, severity: warn}
--- */
select po_id, tenant_id, supplier_id, po_no, ordered_at, expected_on, status
from raw.purchase_orders
