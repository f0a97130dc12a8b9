/* ---
description: >
  GDPR-001 (high): an erasure request has been open for more than 30 days and no legal hold
  (retention duty) blocks it.
owner: team:compliance
materialized: view
tests:
  - unique: entity_id
--- */
select
    'GDPR-001' as rule_id,
    'gdpr' as area,
    'high' as severity,
    'gdpr_request' as entity_type,
    r.request_id as entity_id,
    r.tenant_id,
    'customer' as subject_type,
    r.customer_id as subject_id,
    json_object('received_at', r.received_at, 'open_days', date_diff('day', r.received_at, s.evaluated_at)) as evidence,
    'Art. 12 Abs. 3, Art. 17 DSGVO' as legal_basis,
    'Löschung durchführen oder begründet ablehnen und der betroffenen Person antworten; bei '
    || 'Aufbewahrungspflicht Verarbeitung einschränken (Art. 17 Abs. 3 lit. b, § 35 Abs. 3 BDSG).' as recommendation
from staging.gdpr_requests as r
cross join compliance.settings as s
where r.kind = 'erasure'
    and r.status = 'open'
    and not r.legal_hold
    and r.received_at < s.evaluated_at - to_days(s.gdpr_erasure_days)
