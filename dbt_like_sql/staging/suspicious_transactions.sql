/* ---
description: Explosives-precursor cases (suspicious, refused, loss, theft) and how fast they were reported.
owner: team:compliance
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: case_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [case_id, kind, flagged_at]
  # warn: an unknown value is a row-level problem: the row stays and the check lists it
  - accepted_values: {column: kind, values: [suspicious, refused, loss, theft], severity: warn}
  # warn: an orphan (its parent deleted at the source since) is row-level: it stays, the check lists it
  - relationships: {column: order_id, to: staging.sales_orders, field: order_id, severity: warn}
  # warn: row-level problems of the source; the case stays (it is reportable all the same), the check lists it
  - expression:
      name: flagged_after_its_order
      description: a case about an order is flagged after the order was placed
      sql: >
        select c.* from {{ this }} as c join staging.sales_orders as o on o.order_id = c.order_id
        where c.flagged_at < o.ordered_at
      severity: warn
  - expression:
      name: reported_after_flagged
      description: a case is reported after it was flagged
      sql: "select * from {{ this }} where reported_at < flagged_at"
      severity: warn
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
