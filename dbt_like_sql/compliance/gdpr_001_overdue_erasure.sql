/* ---
description: >
  GDPR-001 (high): a data-subject request of any kind (access, erasure, rectification,
  restriction) has been open for more than a month. Art. 12 (3) GDPR gives one month to answer
  every request, extendable by two months only with notice to the person, which the ERP does not
  record. A legal hold (a retention duty blocking erasure) changes the answer (restrict processing
  and say why, Art. 17 (3) (b), § 35 (3) BDSG), not the deadline: held requests open for over a
  year were never flagged before. The rule id keeps its old name.
owner: team:compliance
materialized: view
rule:
  id: GDPR-001
  area: gdpr
  severity: high
  entity: gdpr_request
  subject: customer
  legal_basis: Art. 12 Abs. 3, Art. 15 bis 18 DSGVO; Art. 17 Abs. 3 lit. b DSGVO, § 35 Abs. 3 BDSG
  recommendation: >
    Anfrage beantworten: Auskunft erteilen, berichtigen oder löschen; steht eine
    Aufbewahrungspflicht entgegen, die Verarbeitung einschränken und der betroffenen Person
    begründet antworten. Fristverlängerung nur mit Mitteilung der Gründe innerhalb der Monatsfrist.
--- */
with requests as (
    -- a month after the instant of receipt, counted on the UTC calendar as the evaluation's end of day
    -- is: adding months to a timestamptz would count them on the session's calendar, so a server in
    -- Berlin would find a request received at 23:30 UTC on 30 March due a day earlier than one in UTC
    select
        r.*,
        (r.received_at at time zone 'UTC' + to_months(s.gdpr_answer_months)) at time zone 'UTC' as answer_due
    from staging.gdpr_requests as r
    cross join compliance.settings as s
)

select
    r.request_id as entity_id,
    r.tenant_id,
    r.customer_id as subject_id,
    json_object(
        'kind', r.kind, 'received_at', r.received_at, 'answer_due', r.answer_due,
        'open_days', date_diff('day', r.received_at, s.evaluated_at), 'legal_hold', r.legal_hold
    ) as evidence
from requests as r
cross join compliance.settings as s
where r.status = 'open'
    and r.answer_due < s.evaluated_at
