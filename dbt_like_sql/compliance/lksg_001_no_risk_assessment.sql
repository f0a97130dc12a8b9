/* ---
description: >
  LKSG-001 (medium): a direct supplier's risk assessment is missing or out of date for its risk
  level: never assessed (or no level recorded), high risk and assessed more than 12 months ago,
  medium risk and more than 24 months ago. § 5 (4) LkSG asks for the risk analysis once a year and
  on occasion, not for a yearly individual review of every supplier: a low-risk supplier (typically
  domestic) needs no periodic individual review once assessed; the yearly analysis covers it by
  country and sector (review cycle by level is this product's reading, the months are settings).
  Applicability: the LkSG binds companies with at least 1,000 employees in Germany (§ 1 (1)); a
  smaller trader is bound only by contract with large customers. Whether the area applies to a
  tenant is decided where areas are scored, not here.
owner: team:compliance
materialized: view
rule:
  id: LKSG-001
  area: lksg
  severity: medium
  entity: supplier
  subject: supplier
  legal_basis: § 5 Abs. 1 und 4 LkSG (jährliche und anlassbezogene Risikoanalyse); § 1 Abs. 1 LkSG (Anwendungsbereich)
  recommendation: >
    Risikoanalyse für den Lieferanten durchführen bzw. aktualisieren und dokumentieren (Land,
    Ware, Nachweise, Risikostufe); hohe Risiken jährlich, mittlere spätestens alle zwei Jahre
    überprüfen.
--- */
select
    sup.supplier_id as entity_id,
    sup.tenant_id,
    sup.supplier_id as subject_id,
    json_object(
        'supplier_no', sup.supplier_no, 'supplier', sup.name, 'country', sup.country_code,
        'risk_level', sup.lksg_risk_level, 'assessed_on', sup.lksg_assessed_on,
        'review_due', case sup.lksg_risk_level
            when 'high' then cast(sup.lksg_assessed_on + to_months(s.lksg_review_months_high) as date)
            when 'medium' then cast(sup.lksg_assessed_on + to_months(s.lksg_review_months_medium) as date)
        end
    ) as evidence
from staging.suppliers as sup
cross join compliance.settings as s
where sup.lksg_assessed_on is null
    or sup.lksg_risk_level is null
    or (sup.lksg_risk_level = 'high' and sup.lksg_assessed_on < s.as_of - to_months(s.lksg_review_months_high))
    or (sup.lksg_risk_level = 'medium' and sup.lksg_assessed_on < s.as_of - to_months(s.lksg_review_months_medium))
