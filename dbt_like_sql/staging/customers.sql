/* ---
description: Current customers, one row per customer; soft-deleted ones left out.
owner: team:analytics
materialized: view
tests:
  - unique: customer_id
  - not_null: [customer_id, tenant_id, customer_no, customer_type]
--- */
select * exclude (deleted_at)
from staging.all_customers
where deleted_at is null
