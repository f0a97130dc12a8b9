/* ---
description: >
  Customers who deducted Skonto after the discount period (finance.skonto_after_window, AR), with the
  amount to claim back: per customer the late deductions, how late, and the total to invoice again.
owner: team:finance
materialized: table
columns:
  tenant_id: The tenant (company).
  customer_id: The customer.
  customer_no: Customer number.
  customer_name: The customer's name.
  payments: Payments with a discount deducted too late (or without terms).
  invoices: Invoices concerned.
  amount_to_claim: Discounts deducted without right (EUR), what to claim back.
  max_days_after_window: The latest deduction, in days after the deadline.
  first_paid_on: Earliest such payment.
  last_paid_on: Latest such payment.
  invoice_nos: The invoices concerned, for the dunning letter.
tests:
  - unique: [tenant_id, customer_id]
  - not_null: [tenant_id, customer_id, amount_to_claim]
  - expression:
      name: positive_claims
      sql: "select * from {{ this }} where amount_to_claim <= 0"
--- */
select
    a.tenant_id,
    a.partner_id as customer_id,
    c.customer_no,
    c.name as customer_name,
    count(*) as payments,
    count(distinct a.invoice_id) as invoices,
    sum(a.skonto_amount) as amount_to_claim,
    max(a.days_after_window) as max_days_after_window,
    min(a.paid_on) as first_paid_on,
    max(a.paid_on) as last_paid_on,
    string_agg(distinct a.invoice_no, ', ' order by a.invoice_no) as invoice_nos
from finance.skonto_after_window as a
left join raw.customers as c on c.customer_id = a.partner_id
where a.kind = 'AR'
group by a.tenant_id, a.partner_id, c.customer_no, c.name
