/* ---
description: LKSG-001 (medium) a supplier has had no risk assessment in the last 12 months.
owner: team:compliance
materialized: view
rule:
  id: LKSG-001
  area: lksg
  severity: medium
  entity: supplier
  subject: supplier
  legal_basis: § 5 LkSG (jährliche und anlassbezogene Risikoanalyse)
  recommendation: >
    Risikoanalyse für den Lieferanten durchführen und dokumentieren (Land, Ware, Nachweise).
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
select
    sup.supplier_id as entity_id,
    sup.tenant_id,
    sup.supplier_id as subject_id,
    json_object(
        'supplier_no', sup.supplier_no, 'supplier', sup.name, 'country', sup.country_code,
        'risk_level', sup.lksg_risk_level, 'assessed_on', sup.lksg_assessed_on
    ) as evidence
from staging.suppliers as sup
cross join compliance.settings as s
where sup.lksg_assessed_on is null
    or sup.lksg_assessed_on < s.as_of - to_months(s.lksg_assessment_months)
