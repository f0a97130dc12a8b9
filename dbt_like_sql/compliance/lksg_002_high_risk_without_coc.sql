/* ---
description: LKSG-002 (high) a high-risk supplier has not signed the supplier code of conduct.
owner: team:compliance
materialized: view
tests:
  - unique: entity_id
--- */
select
    'LKSG-002' as rule_id,
    'lksg' as area,
    'high' as severity,
    'supplier' as entity_type,
    sup.supplier_id as entity_id,
    sup.tenant_id,
    'supplier' as subject_type,
    sup.supplier_id as subject_id,
    json_object('supplier_no', sup.supplier_no, 'supplier', sup.name, 'country', sup.country_code) as evidence,
    '§ 6 Abs. 4 LkSG (Präventionsmaßnahmen gegenüber unmittelbaren Zulieferern)' as legal_basis,
    'Verhaltenskodex unterzeichnen lassen oder Präventionsmaßnahmen vereinbaren; bis dahin keine neuen '
    || 'Bestellungen.' as recommendation
from staging.suppliers as sup
where sup.lksg_risk_level = 'high' and not sup.code_of_conduct_signed
