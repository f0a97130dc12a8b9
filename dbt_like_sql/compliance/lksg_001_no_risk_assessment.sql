/* ---
description: LKSG-001 (medium) a supplier has had no risk assessment in the last 12 months.
owner: team:compliance
materialized: view
tests:
  - unique: entity_id
--- */
select
    'LKSG-001' as rule_id,
    'lksg' as area,
    'medium' as severity,
    'supplier' as entity_type,
    sup.supplier_id as entity_id,
    sup.tenant_id,
    'supplier' as subject_type,
    sup.supplier_id as subject_id,
    json_object(
        'supplier_no', sup.supplier_no, 'supplier', sup.name, 'country', sup.country_code,
        'risk_level', sup.lksg_risk_level, 'assessed_on', sup.lksg_assessed_on
    ) as evidence,
    '§ 5 LkSG (jährliche und anlassbezogene Risikoanalyse)' as legal_basis,
    'Risikoanalyse für den Lieferanten durchführen und dokumentieren (Land, Ware, Nachweise).' as recommendation
from staging.suppliers as sup
cross join compliance.settings as s
where sup.lksg_assessed_on is null
    or sup.lksg_assessed_on < s.as_of - to_months(s.lksg_assessment_months)
