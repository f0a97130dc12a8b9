/* ---
description: >
  ENNI-001 (high): a manure or digestate delivery is older than 30 days and has no report
  reference from the reporting programme (Meldeprogramm Wirtschaftsdünger).
owner: team:compliance
materialized: view
tests:
  - unique: entity_id
--- */
select
    'ENNI-001' as rule_id,
    'enni' as area,
    'high' as severity,
    'manure_delivery' as entity_type,
    d.delivery_id as entity_id,
    d.tenant_id,
    'partner' as subject_type,
    d.partner_id as subject_id,
    json_object(
        'delivered_on', d.delivered_on, 'days_since', s.as_of - d.delivered_on, 'direction', d.direction,
        'tonnes', d.tonnes, 'state_code', d.state_code
    ) as evidence,
    '§ 3 WDüngV; § 4 NDüngMeldVO (Meldeprogramm Wirtschaftsdünger)' as legal_basis,
    'Lieferung im Meldeprogramm Wirtschaftsdünger nachmelden und die Meldungs-ID erfassen.' as recommendation
from staging.manure_deliveries as d
cross join compliance.settings as s
where d.report_ref is null and d.delivered_on < s.as_of - s.manure_report_days
