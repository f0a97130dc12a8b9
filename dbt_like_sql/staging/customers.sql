/* ---
description: Current customers, one row per customer; soft-deleted ones left out.
owner: team:analytics
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: customer_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [customer_id, tenant_id, customer_no, customer_type]
--- */
select * exclude (deleted_at)
from staging.all_customers
where deleted_at is null
