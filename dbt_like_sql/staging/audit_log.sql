/* ---
description: The ERP's audit trail with the local day of each entry.
owner: team:compliance
materialized: view
tests:
  - unique: seq
  - not_null: [seq, tenant_id, occurred_at, actor, action, entity_type, entity_id]
  - accepted_values: {column: action, values: [create, update, delete, export, login]}
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
