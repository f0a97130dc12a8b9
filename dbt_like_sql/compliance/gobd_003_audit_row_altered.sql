/* ---
description: >
  GOBD-003 (critical): an audit row was changed or deleted after we first saw it (its fingerprint
  as first seen differs from what the source holds now, or the row is gone).
owner: team:compliance
materialized: view
rule:
  id: GOBD-003
  area: gobd
  severity: critical
  entity: audit_log
  subject: audit_log
  legal_basis: § 146 Abs. 4 AO; GoBD Rz. 107 bis 112 (Unveränderbarkeit)
  recommendation: >
    Manipulation des Protokolls untersuchen, Ursprungszustand aus der Sicherung belegen und den
    Vorfall dokumentieren; Schreibrechte auf das Audit-Log entziehen.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
select
    cast(f.seq as varchar) as entity_id,
    f.tenant_id,
    'audit_log' as subject_id,
    json_object(
        'seq', f.seq, 'change', case when not f.present then 'deleted' else 'changed' end,
        'first_seen_at', f.first_seen_at, 'first_fingerprint', f.first_fingerprint,
        'current_fingerprint', f.current_fingerprint
    ) as evidence
from compliance.audit_fingerprints as f
where not f.present or f.current_fingerprint <> f.first_fingerprint
