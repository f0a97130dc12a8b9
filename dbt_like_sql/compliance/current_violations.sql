/* ---
description: >
  Every rule's findings of this run in one table, each with a violation_id that stays the same
  across runs (rule, entity type and entity), so a violation keeps its history. The rules are
  every model of this folder with a `rule:` header: adding a rule is adding its file. Each rule is
  evaluated on its own: one that fails is left out, its outcome and error recorded in
  compliance.rule_runs, and its area's score goes stale while the others go on.
owner: team:compliance
materialized: table
union_of: rules
columns:
  violation_id: Stable key of the finding (md5 of rule, entity type and entity), the same in every run.
tests:
  # error: also run on each rule's findings while the union is built: a rule that breaks one is left out
  # and recorded in compliance.rule_runs (its area goes stale), so these hold for the union as a whole
  - unique: violation_id
  - not_null: [violation_id, tenant_id, area, rule_id, severity, entity_type, entity_id, legal_basis, recommendation]
  - accepted_values: {column: area, values: [psm, explosives, enni, traces, lksg, gdpr, gobd, finance]}
  - accepted_values: {column: severity, values: [critical, high, medium, info]}
--- */
select
    md5(rule_id || '|' || entity_type || '|' || entity_id) as violation_id,
    tenant_id,
    area,
    rule_id,
    severity,
    entity_type,
    entity_id,
    subject_type,
    subject_id,
    cast(evidence as varchar) as evidence,
    recommendation,
    legal_basis
from {{ rules }} as finding
