/* ---
description: Data-subject requests with their age in days and whether they are still open.
owner: team:compliance
materialized: view
tests:
  - unique: request_id
  - not_null: [request_id, customer_id, kind, status, received_at]
  - accepted_values: {column: status, values: [open, completed, rejected]}
--- */
select
    request_id,
    tenant_id,
    customer_id,
    kind,
    status,
    legal_hold,
    received_at,
    completed_at,
    status = 'open' as is_open,
    date_diff('day', received_at, coalesce(completed_at, current_timestamp)) as age_days
from raw.gdpr_requests
