/* ---
description: LKSG-002 (high) a high-risk supplier has not signed the supplier code of conduct.
owner: team:compliance
materialized: view
rule:
  id: LKSG-002
  area: lksg
  severity: high
  entity: supplier
  subject: supplier
  legal_basis: § 6 Abs. 4 LkSG (Präventionsmaßnahmen gegenüber unmittelbaren Zulieferern)
  recommendation: >
    Verhaltenskodex unterzeichnen lassen oder Präventionsmaßnahmen vereinbaren; bis dahin keine
    neuen Bestellungen.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
select
    sup.supplier_id as entity_id,
    sup.tenant_id,
    sup.supplier_id as subject_id,
    json_object('supplier_no', sup.supplier_no, 'supplier', sup.name, 'country', sup.country_code) as evidence
from staging.suppliers as sup
where sup.lksg_risk_level = 'high' and not sup.code_of_conduct_signed
