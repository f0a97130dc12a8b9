/* ---
description: Data-subject requests with their age in days and whether they are still open.
owner: team:compliance
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: request_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [request_id, customer_id, kind, status, received_at]
  # warn: an unknown value is a row-level problem: the row stays and the check lists it
  - accepted_values: {column: status, values: [open, completed, rejected], severity: warn}
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
