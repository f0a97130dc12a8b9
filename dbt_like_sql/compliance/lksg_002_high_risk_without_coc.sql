/* ---
description: >
  LKSG-002 (high): a high-risk supplier has not signed the supplier code of conduct, the
  contractual assurance § 6 (4) Nr. 2 LkSG names as a prevention measure towards a direct supplier.
  The rule stands as it was (the review found it sound); its advice no longer says "no new orders":
  ending a business relationship is the last resort of § 7 (3) LkSG, not the first step.
  Applicability as LKSG-001 (§ 1 (1): 1,000 employees).
owner: team:compliance
materialized: view
rule:
  id: LKSG-002
  area: lksg
  severity: high
  entity: supplier
  subject: supplier
  legal_basis: § 6 Abs. 4 Nr. 2 LkSG (Präventionsmaßnahmen gegenüber unmittelbaren Zulieferern)
  recommendation: >
    Verhaltenskodex bzw. vertragliche Zusicherung des Lieferanten einholen und weitere
    Präventionsmaßnahmen (Schulung, Kontrollen) vereinbaren und dokumentieren; ein Abbruch der
    Geschäftsbeziehung kommt nur als letztes Mittel in Betracht (§ 7 Abs. 3 LkSG).
--- */
select
    sup.supplier_id as entity_id,
    sup.tenant_id,
    sup.supplier_id as subject_id,
    json_object('supplier_no', sup.supplier_no, 'supplier', sup.name, 'country', sup.country_code) as evidence
from staging.suppliers as sup
where sup.lksg_risk_level = 'high' and not sup.code_of_conduct_signed
