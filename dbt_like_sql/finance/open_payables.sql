/* ---
description: >
  Open supplier invoices (AP) as the Skonto planner reads them: what is still open, unclamped, so a
  negative amount or a foreign currency reaches the planner and is excluded there with its reason,
  never dropped silently.
owner: team:finance
materialized: view
columns:
  invoice_id: The invoice's key.
  tenant_id: The tenant (company).
  supplier_id: The supplier (partner_id of an AP invoice).
  invoice_no: The supplier's invoice number.
  invoice_date: Invoice date; Skonto and net days count from it.
  gross_amount: Gross amount, EUR.
  currency: Currency of the invoice.
  skonto_pct: Cash discount in percent (2.0 means 2 %), null without Skonto.
  skonto_days: Days from the invoice date within which the discount may be deducted.
  net_days: Days from the invoice date to the due date.
  status: open or partially_paid.
  paid_amount: Paid so far, EUR.
  skonto_taken: Discount deducted so far, EUR.
  open_amount: Gross amount less what was paid and deducted, EUR (may be negative or zero for bad input).
tests:
  - unique: invoice_id
  - not_null: [invoice_id, tenant_id, supplier_id]
--- */
with paid as (
    select
        invoice_id,
        sum(amount) as paid_amount,
        sum(skonto_amount) as skonto_taken
    from raw.payments
    group by invoice_id
)

select
    i.invoice_id,
    i.tenant_id,
    i.partner_id as supplier_id,
    i.invoice_no,
    i.invoice_date,
    i.gross_amount,
    i.currency,
    i.skonto_pct,
    i.skonto_days,
    i.net_days,
    i.status,
    coalesce(p.paid_amount, 0) as paid_amount,
    coalesce(p.skonto_taken, 0) as skonto_taken,
    i.gross_amount - coalesce(p.paid_amount, 0) - coalesce(p.skonto_taken, 0) as open_amount
from raw.invoices as i
left join paid as p on p.invoice_id = i.invoice_id
where i.kind = 'AP' and i.status in ('open', 'partially_paid')
