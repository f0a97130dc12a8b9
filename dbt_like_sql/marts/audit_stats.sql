/* ---
description: >
  Audit trail entries per local day, action, actor and entity type: the ERP's audit statistics
  as a table.
owner: team:compliance
materialized: table
columns:
  tenant_id: The tenant (company).
  occurred_on: Day of the audit entries (UTC).
  action: insert, update, delete, export, ...
  actor: Who acted (user or system).
  entity_type: What was acted on.
  entries: Audit entries.
  entities: Distinct entities touched.
  first_seq: Lowest audit sequence number of the group.
  last_seq: Highest audit sequence number of the group.
tests:
  # error: the grain of the mart and its own aggregates; a failure means the model is broken
  - unique: [tenant_id, occurred_on, action, actor, entity_type]
  - not_null: [occurred_on, action, actor, entity_type, entries]
--- */
select
    tenant_id,
    occurred_on,
    action,
    actor,
    entity_type,
    count(*) as entries,
    count(distinct entity_id) as entities,
    min(seq) as first_seq,
    max(seq) as last_seq
from staging.audit_log
group by all
