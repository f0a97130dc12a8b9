/* ---
description: >
  GOBD-002 (critical): a sequence number of the audit trail was never seen although rows after it
  are older than the grace period (15 minutes): the log has a gap. Younger gaps may still be
  transactions that have not committed yet. The tenant is the preceding row's (the missing row
  cannot tell).
owner: team:compliance
materialized: view
rule:
  id: GOBD-002
  area: gobd
  severity: critical
  entity: audit_log
  subject: audit_log
  legal_basis: § 146 Abs. 4 AO; GoBD Rz. 107 bis 112 (Unveränderbarkeit)
  recommendation: >
    Lücke im Protokoll mit dem ERP-Betrieb aufklären (Löschung, Rücksicherung?) und den Befund in
    der Verfahrensdokumentation festhalten.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
with bounds as (
    select min(seq) as first_seq, max(seq) as last_seq from compliance.audit_fingerprints
),

settled as (
    -- the highest sequence number up to which every transaction has had time to commit
    select max(f.seq) as seq
    from compliance.audit_fingerprints as f
    cross join compliance.settings as s
    where f.occurred_at < s.evaluated_at - to_minutes(s.gobd_gap_grace_minutes)
),

missing as (
    select g.seq
    from bounds as b, settled as t, generate_series(b.first_seq, t.seq) as g(seq)
    where not exists (select 1 from compliance.audit_fingerprints as f where f.seq = g.seq)
)

select
    cast(m.seq as varchar) as entity_id,
    coalesce(
        (select f.tenant_id from compliance.audit_fingerprints as f where f.seq < m.seq order by f.seq desc limit 1),
        'unknown'
    ) as tenant_id,
    'audit_log' as subject_id,
    json_object('missing_seq', m.seq) as evidence
from missing as m
