/* ---
description: >
  GOBD-002 (high): a sequence number of the audit trail was never seen although rows after it are
  older than the grace period (15 minutes), and the ERP guarantees gapless audit numbers (setting
  gobd_audit_gapless, off by default). A PostgreSQL sequence leaves a gap for every rolled-back
  transaction, so without that guarantee a gap is no evidence and produced false criticals in
  production; rows we saw and that vanished since are GOBD-003's finding either way. The audit
  sequence is shared by all tenants and a missing row cannot say whose it was: the finding carries
  tenant "*" (all tenants) instead of guessing the preceding row's.
owner: team:compliance
materialized: view
rule:
  id: GOBD-002
  area: gobd
  severity: high
  entity: audit_log
  subject: audit_log
  legal_basis: § 146 Abs. 4 AO; GoBD Rz. 107 bis 112 (Unveränderbarkeit)
  recommendation: >
    Lücke im Protokoll mit dem ERP-Betrieb aufklären (Löschung, Rücksicherung, Fehler der
    lückenlosen Nummernvergabe?) und den Befund in der Verfahrensdokumentation festhalten.
--- */
with bounds as (
    select min(seq) as first_seq from compliance.audit_fingerprints
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
    '*' as tenant_id,
    'audit_log' as subject_id,
    json_object('missing_seq', m.seq) as evidence
from missing as m
cross join compliance.settings as s
where s.gobd_audit_gapless
