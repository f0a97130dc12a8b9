/* ---
description: >
  Marketing and data-sharing consents, with the period in which each was in force. A consent
  revoked before it was granted has no period in force that anyone could rely on: it is left out
  (quarantine.model_rows keeps it with the reason), so it counts as not given.
owner: team:compliance
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: consent_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [consent_id, customer_id, purpose, granted_at]
  # warn: an unknown value is a row-level problem: the row stays and the check lists it
  - accepted_values:
      column: purpose
      values: [marketing_email, marketing_phone, data_sharing]
      severity: warn
quarantine:
  # warn, not error: one such row says nothing about the other consents (it used to block every score)
  - name: revoked_before_granted
    where: revoked_at < granted_at
    reason: the consent was revoked before it was granted
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
