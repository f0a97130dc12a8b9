/* ---
description: >
  The one definition of "Skonto deducted after its window", for receivables and payables alike: a
  payment that deducted a cash discount although it was made after the discount period, or although
  the invoice grants none. The period ends skonto_days after the invoice date; when that day is a
  Saturday, Sunday or nationwide public holiday it ends on the next workday (§ 193 BGB). A payment on
  the deadline is in time. The marts and any finance compliance rule select from this model.
owner: team:finance
materialized: view
columns:
  payment_id: The payment that deducted the discount.
  tenant_id: The tenant (company).
  invoice_id: The invoice paid.
  kind: AR (a customer deducted it from us) or AP (we deducted it from a supplier).
  partner_id: Customer (AR) or supplier (AP).
  invoice_no: Invoice number.
  invoice_date: Invoice date.
  skonto_pct: Discount the invoice grants in percent, null when it grants none.
  skonto_until: Last day of the discount period by the terms (invoice date + skonto days).
  skonto_deadline: The period's end after § 193 BGB (next workday when skonto_until is not one).
  paid_on: Day of the payment.
  days_after_window: Days from the deadline to the payment (null when the invoice grants no discount).
  skonto_amount: Discount deducted by this payment, EUR.
  reason: after_window or no_skonto_terms.
tests:
  - unique: payment_id
  - not_null: [payment_id, tenant_id, invoice_id, kind, paid_on, skonto_amount, reason]
  - accepted_values: {column: reason, values: [after_window, no_skonto_terms]}
  - expression:
      name: only_deductions
      sql: "select * from {{ this }} where skonto_amount <= 0"
--- */
with deductions as (
    select
        p.*,
        i.invoice_no,
        p.invoice_date + p.skonto_days as skonto_until
    from staging.payments as p
    join raw.invoices as i on i.invoice_id = p.invoice_id
    where p.skonto_amount > 0
)

select
    d.payment_id,
    d.tenant_id,
    d.invoice_id,
    d.kind,
    d.partner_id,
    d.invoice_no,
    d.invoice_date,
    d.skonto_pct,
    d.skonto_until,
    coalesce(c.next_workday, d.skonto_until) as skonto_deadline,
    d.paid_on,
    date_diff('day', coalesce(c.next_workday, d.skonto_until), d.paid_on) as days_after_window,
    d.skonto_amount,
    case when d.skonto_until is null or d.skonto_pct is null or d.skonto_pct <= 0 then 'no_skonto_terms' else 'after_window' end
        as reason
from deductions as d
left join finance.calendar as c on c.day = d.skonto_until
where
    d.skonto_until is null
    or d.skonto_pct is null
    or d.skonto_pct <= 0
    or d.paid_on > coalesce(c.next_workday, d.skonto_until)
