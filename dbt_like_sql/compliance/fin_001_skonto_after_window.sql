/* ---
description: >
  FIN-001 (medium): a payment deducted a cash discount (Skonto) although it was made after the
  discount period, or although the invoice grants none. Receivables (AR): the customer owes the
  difference; payables (AP): we owe it to the supplier. Selected from finance.skonto_after_window,
  the one definition the finance marts share (the period ends skonto_days after the invoice date,
  moved to the next workday when that is a weekend or nationwide holiday, § 193 BGB).
owner: team:compliance
materialized: view
rule:
  id: FIN-001
  area: finance
  severity: medium
  entity: payment
  legal_basis: Skontoabrede der Rechnung; §§ 187, 188, 193 BGB (Fristende)
  recommendation: >
    Forderungen (AR): unberechtigt abgezogenen Skontobetrag beim Kunden nachfordern. Verbindlichkeiten
    (AP): Differenz an den Lieferanten nachzahlen und den Zahlungslauf so planen, dass Skonto nur in
    der Frist gezogen wird.
--- */
select
    w.payment_id as entity_id,
    w.tenant_id,
    case w.kind when 'AR' then 'customer' else 'supplier' end as subject_type,
    w.partner_id as subject_id,
    json_object(
        'kind', w.kind, 'invoice_id', w.invoice_id, 'invoice_no', w.invoice_no, 'invoice_date', w.invoice_date,
        'skonto_pct', w.skonto_pct, 'skonto_deadline', w.skonto_deadline, 'paid_on', w.paid_on,
        'days_after_window', w.days_after_window, 'skonto_amount', w.skonto_amount, 'reason', w.reason
    ) as evidence
from finance.skonto_after_window as w
