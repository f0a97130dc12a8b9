/* ---
description: >
  GOBD-002 (high): a sequence number of the audit trail was never seen although rows after it are
  older than the grace period (15 minutes), and the ERP guarantees gapless audit numbers (setting
  gobd_audit_gapless, off by default). A PostgreSQL sequence leaves a gap for every rolled-back
  transaction, so without that guarantee a gap is no evidence and produced false criticals in
  production; rows we saw and that vanished since are GOBD-003's finding either way. The audit
  sequence is shared by all tenants and a missing row cannot say whose it was: the finding carries
  tenant "*" (all tenants) instead of guessing the preceding row's. A run of missing numbers is
  one finding, keyed by its range ("101..105", or "101" alone), computed from neighbouring numbers
  (lag over the ordered sequence), so a far-off value costs nothing more than a near one.
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
with settled as (
    -- the highest sequence number up to which every transaction has had time to commit
    select max(f.seq) as seq
    from compliance.audit_fingerprints as f
    cross join compliance.settings as s
    where f.occurred_at < s.evaluated_at - to_minutes(s.gobd_gap_grace_minutes)
),

steps as (
    -- each number seen (a vanished row too: GOBD-003's) next to the one before it
    select seq, lag(seq) over (order by seq) as previous_seq
    from compliance.audit_fingerprints
),

gaps as (
    -- one gap per run of missing numbers, as a range: a far-off value (seq 10^12) is one finding,
    -- never a row per missing number
    select
        g.previous_seq + 1 as first_missing,
        g.seq - 1 as last_missing
    from steps as g
    cross join settled as t
    where g.seq - g.previous_seq > 1 and g.seq <= t.seq
)

select
    case
        when g.first_missing = g.last_missing then cast(g.first_missing as varchar)
        else g.first_missing || '..' || g.last_missing
    end as entity_id,
    '*' as tenant_id,
    'audit_log' as subject_id,
    json_object(
        'missing_from', g.first_missing, 'missing_to', g.last_missing,
        'missing_count', g.last_missing - g.first_missing + 1
    ) as evidence
from gaps as g
cross join compliance.settings as s
where s.gobd_audit_gapless
