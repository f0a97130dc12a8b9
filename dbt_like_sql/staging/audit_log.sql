/* ---
description: The ERP's audit trail with the local day of each entry.
owner: team:compliance
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: seq
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [seq, tenant_id, occurred_at, actor, action, entity_type, entity_id]
  # warn: an unknown value is a row-level problem: the row stays and the check lists it
  - accepted_values: {column: action, values: [create, update, delete, export, login], severity: warn}
--- */
select
    seq,
    tenant_id,
    occurred_at,
    cast(occurred_at at time zone 'Europe/Berlin' as date) as occurred_on,
    actor,
    action,
    entity_type,
    entity_id,
    correlation_id,
    ip,
    user_agent,
    before,
    after
from raw.audit_log
