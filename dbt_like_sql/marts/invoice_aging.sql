/* ---
description: >
  Open receivables (AR) and payables (AP) by invoice, aged by days past due as of today:
  not_due, 1-30, 31-60, 61-90, over_90. Partner names come from customers (AR) or suppliers (AP).
owner: team:finance
materialized: table
columns:
  invoice_id: The invoice's key.
  tenant_id: The tenant (company).
  kind: AR (receivable) or AP (payable).
  invoice_no: Invoice number.
  partner_id: Customer (AR) or supplier (AP).
  partner_name: Their name.
  invoice_date: Invoice date.
  due_on: Due date (invoice date + net days).
  skonto_until: Last day to pay with cash discount.
  gross_amount: Gross amount, EUR.
  open_amount: Amount still open, EUR.
  days_past_due: Days past the due date (0 if not due).
  bucket: not_due, 1-30, 31-60, 61-90 or over_90.
tests:
  # error: the grain, the model's own buckets and its own filter; a failure means the model is broken
  - unique: invoice_id
  - not_null: [invoice_id, kind, partner_id, open_amount, bucket]
  - accepted_values: {column: bucket, values: [not_due, 1-30, 31-60, 61-90, over_90]}
  - expression:
      name: only_open_amounts
      sql: "select * from {{ this }} where open_amount <= 0"
--- */
with open_invoices as (
    select
        i.*,
        date_diff('day', i.due_on, current_date) as days_past_due
    from staging.invoices as i
    where i.open_amount > 0
)

select
    o.invoice_id,
    o.tenant_id,
    o.kind,
    o.invoice_no,
    o.partner_id,
    coalesce(c.name, s.name) as partner_name,
    o.invoice_date,
    o.due_on,
    o.skonto_until,
    o.gross_amount,
    o.open_amount,
    greatest(o.days_past_due, 0) as days_past_due,
    case
        when o.days_past_due <= 0 then 'not_due'
        when o.days_past_due <= 30 then '1-30'
        when o.days_past_due <= 60 then '31-60'
        when o.days_past_due <= 90 then '61-90'
        else 'over_90'
    end as bucket
from open_invoices as o
left join raw.customers as c on o.kind = 'AR' and c.customer_id = o.partner_id
left join raw.suppliers as s on o.kind = 'AP' and s.supplier_id = o.partner_id
