/* ---
description: >
  EXP-004 (critical): a suspicious, refused, lost or stolen precursor case was not reported to
  the authority within 24 hours of being flagged.
owner: team:compliance
materialized: view
rule:
  id: EXP-004
  area: explosives
  severity: critical
  entity: suspicious_transaction
  legal_basis: Art. 9 Abs. 1 VO (EU) 2019/1148; § 3 AusgStG
  recommendation: >
    Fall unverzüglich der Nationalen Kontaktstelle (LKA) melden und Aktenzeichen erfassen; Meldeweg
    und Vertretung für Wochenenden festlegen.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
select
    t.case_id as entity_id,
    t.tenant_id,
    case when t.customer_id is not null then 'customer' else 'tenant' end as subject_type,
    coalesce(t.customer_id, t.tenant_id) as subject_id,
    json_object(
        'kind', t.kind, 'flagged_at', t.flagged_at, 'reported_at', t.reported_at,
        'hours_to_report', t.hours_to_report, 'order_id', t.order_id
    ) as evidence
from staging.suspicious_transactions as t
cross join compliance.settings as s
where (t.reported_at is null and t.flagged_at < s.evaluated_at - to_hours(s.precursor_report_hours))
    or t.reported_at > t.flagged_at + to_hours(s.precursor_report_hours)
