/* ---
description: >
  GOBD-003 (critical): an audit row was changed or deleted after we first saw it (its fingerprint
  as first seen differs from what the source holds now, or the row is gone). The review found the
  rule sound; a row deleted after its retention period ran out (10 years from the end of the
  calendar year of the entry, § 147 (3), (4) AO) may be deleted and is no finding.
owner: team:compliance
materialized: view
rule:
  id: GOBD-003
  area: gobd
  severity: critical
  entity: audit_log
  subject: audit_log
  legal_basis: § 146 Abs. 4 AO; GoBD Rz. 107 bis 112 (Unveränderbarkeit); § 147 Abs. 3 und 4 AO
  recommendation: >
    Manipulation des Protokolls untersuchen, Ursprungszustand aus der Sicherung belegen und den
    Vorfall dokumentieren; Schreibrechte auf das Audit-Log entziehen.
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
cross join compliance.settings as s
where (f.present and f.current_fingerprint <> f.first_fingerprint)
    or (
        not f.present
        and make_date(year(f.occurred_at at time zone 'Europe/Berlin') + s.retention_years_books, 12, 31) >= s.as_of
    )
