/* ---
description: >
  ENNI-001 (high): a manure or digestate delivery is older than 30 days and has no report
  reference from the reporting programme (Meldeprogramm Wirtschaftsdünger).
owner: team:compliance
materialized: view
rule:
  id: ENNI-001
  area: enni
  severity: high
  entity: manure_delivery
  subject: partner
  legal_basis: § 3 WDüngV; § 4 NDüngMeldVO (Meldeprogramm Wirtschaftsdünger)
  recommendation: >
    Lieferung im Meldeprogramm Wirtschaftsdünger nachmelden und die Meldungs-ID erfassen.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
select
    d.delivery_id as entity_id,
    d.tenant_id,
    d.partner_id as subject_id,
    json_object(
        'delivered_on', d.delivered_on, 'days_since', s.as_of - d.delivered_on, 'direction', d.direction,
        'tonnes', d.tonnes, 'state_code', d.state_code
    ) as evidence
from staging.manure_deliveries as d
cross join compliance.settings as s
where d.report_ref is null and d.delivered_on < s.as_of - s.manure_report_days
