/* ---
description: >
  Certificates customers have shown (Sachkunde, precursor customer statements, ID checks, organic
  control), with their validity as a date range and whether staff verified them.
owner: team:compliance
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: certificate_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [certificate_id, customer_id, kind, issued_on]
  # warn: an unknown value is a row-level problem: the row stays and the check lists it
  - accepted_values:
      column: kind
      values: [psm_sachkunde, precursor_customer_statement, id_verification, organic_control]
      severity: warn
  # warn: an orphan (its parent deleted at the source since) is row-level: it stays, the check lists it
  - relationships: {column: customer_id, to: raw.customers, field: customer_id, severity: warn}
--- */
select
    cc.certificate_id,
    cc.tenant_id,
    cc.customer_id,
    cc.kind,
    cc.reference_no,
    cc.issued_on,
    cc.valid_until,
    coalesce(cc.valid_until, date '9999-12-31') as valid_through,
    cc.verified_at is not null as is_verified,
    cc.verified_at,
    cc.verified_by
from raw.customer_certificates as cc
