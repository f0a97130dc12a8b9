/* ---
description: Payments against invoices, with the invoice's kind, date and Skonto terms.
owner: team:finance
materialized: view
tests:
  - unique: payment_id
  - not_null: [payment_id, invoice_id, paid_on, amount]
  - relationships: {column: invoice_id, to: raw.invoices, field: invoice_id}
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
join raw.invoices as i on i.invoice_id = p.invoice_id
