/* ---
description: Explosives-precursor cases (suspicious, refused, loss, theft) and how fast they were reported.
owner: team:compliance
materialized: view
tests:
  - unique: case_id
  - not_null: [case_id, kind, flagged_at]
  - accepted_values: {column: kind, values: [suspicious, refused, loss, theft]}
--- */
select
    case_id,
    tenant_id,
    order_id,
    customer_id,
    kind,
    flagged_at,
    reported_at,
    authority_ref,
    date_diff('minute', flagged_at, reported_at) / 60.0 as hours_to_report
from raw.suspicious_transactions
