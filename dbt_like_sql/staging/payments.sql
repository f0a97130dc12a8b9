/* ---
description: >
  Payments against invoices, with the invoice's kind, date and Skonto terms. A payment whose
  invoice is missing is left out; quarantine.model_rows keeps it with the reason.
owner: team:finance
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: payment_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [payment_id, invoice_id, paid_on, amount]
  # error: orphans are quarantined below, so a failure here means this model's join is broken
  - relationships: {column: invoice_id, to: raw.invoices, field: invoice_id}
quarantine:
  - name: invoice_missing
    where: kind is null
    reason: the payment's invoice is not in the warehouse (deleted at the source since)
--- */
select
    p.payment_id,
    p.tenant_id,
    p.invoice_id,
    i.kind,
    i.partner_id,
    i.invoice_date,
    i.skonto_pct,
    i.skonto_days,
    p.paid_on,
    p.amount,
    p.skonto_amount,
    date_diff('day', i.invoice_date, p.paid_on) as days_after_invoice
from raw.payments as p
left join raw.invoices as i on i.invoice_id = p.invoice_id
