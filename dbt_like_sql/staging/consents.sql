/* ---
description: Marketing and data-sharing consents, with the period in which each was in force.
owner: team:compliance
materialized: view
tests:
  - unique: consent_id
  - not_null: [consent_id, customer_id, purpose, granted_at]
  - accepted_values: {column: purpose, values: [marketing_email, marketing_phone, data_sharing]}
  - expression:
      name: revoked_after_granted
      sql: "select * from {{ this }} where revoked_at < granted_at"
--- */
select
    consent_id,
    tenant_id,
    customer_id,
    purpose,
    granted_at,
    revoked_at,
    coalesce(revoked_at, timestamptz '9999-12-31 00:00:00+00') as in_force_until,
    revoked_at is null as is_active,
    evidence
from raw.consents
