/* ---
description: >
  GDPR-001 (high): an erasure request has been open for more than 30 days and no legal hold
  (retention duty) blocks it.
owner: team:compliance
materialized: view
rule:
  id: GDPR-001
  area: gdpr
  severity: high
  entity: gdpr_request
  subject: customer
  legal_basis: Art. 12 Abs. 3, Art. 17 DSGVO
  recommendation: >
    Löschung durchführen oder begründet ablehnen und der betroffenen Person antworten; bei
    Aufbewahrungspflicht Verarbeitung einschränken (Art. 17 Abs. 3 lit. b, § 35 Abs. 3 BDSG).
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
select
    r.request_id as entity_id,
    r.tenant_id,
    r.customer_id as subject_id,
    json_object('received_at', r.received_at, 'open_days', date_diff('day', r.received_at, s.evaluated_at)) as evidence
from staging.gdpr_requests as r
cross join compliance.settings as s
where r.kind = 'erasure'
    and r.status = 'open'
    and not r.legal_hold
    and r.received_at < s.evaluated_at - to_days(s.gdpr_erasure_days)
