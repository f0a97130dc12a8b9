/* ---
description: >
  FIN-002 (high): a supplier's IBAN is invalid: wrong check digits, wrong length or structure for
  its country, or an unknown country code, as the maintained IBAN library schwifty judges it
  (finance.supplier_ibans, computed in Python where the library lives). A payment to it fails at the
  bank or, worse, reaches a stranger's account after a typo. An IBAN outside the SEPA zone is not
  invalid (the payment run leaves it out on its own); a supplier without an IBAN is not judged.
owner: team:compliance
materialized: view
rule:
  id: FIN-002
  area: finance
  severity: high
  entity: supplier
  subject: supplier
  legal_basis: ISO 13616 (IBAN, Prüfziffer); Art. 5 Abs. 1 lit. a VO (EU) Nr. 260/2012 (SEPA)
  recommendation: >
    IBAN beim Lieferanten schriftlich bestätigen lassen (Rückruf unter bekannter Nummer, nicht aus
    der E-Mail) und im Lieferantenstamm berichtigen; bis dahin keine Zahlungen an diese Verbindung.
--- */
select
    i.supplier_id as entity_id,
    i.tenant_id,
    i.supplier_id as subject_id,
    json_object('supplier_no', i.supplier_no, 'supplier', i.name, 'iban', i.iban, 'problem', i.problem) as evidence
from finance.supplier_ibans as i
where not i.is_valid
