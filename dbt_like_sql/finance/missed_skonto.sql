/* ---
description: >
  Supplier invoices (AP) paid in the last 12 months where a cash discount was available and lost:
  fully paid, the terms granted Skonto, and less was deducted than the terms allowed. The amount lost
  is the discount on the gross amount less what was deducted; the annual rate shows what the lost
  discount was worth as interest (s / (1 - s) * 360 / (net days - skonto days)).
owner: team:finance
materialized: table
vars:
  as_of: The day the 12-month window ends (YYYY-MM-DD; default today).
columns:
  tenant_id: The tenant (company).
  invoice_id: The supplier invoice.
  supplier_id: The supplier.
  supplier_name: The supplier's name.
  invoice_no: The supplier's invoice number.
  invoice_date: Invoice date.
  skonto_pct: Discount the terms granted, percent.
  skonto_until: Last day of the discount period by the terms.
  last_paid_on: Day of the last payment.
  days_after_window: Days from the end of the discount period to the last payment.
  gross_amount: Gross amount, EUR.
  skonto_available: Discount the terms allowed on the gross amount, EUR.
  skonto_taken: Discount deducted, EUR.
  missed_amount: Discount lost, EUR.
  annual_rate_pct: Effective annual rate of the lost discount, percent.
tests:
  - unique: invoice_id
  - not_null: [tenant_id, invoice_id, missed_amount]
  - expression:
      name: positive_losses
      sql: "select * from {{ this }} where missed_amount <= 0"
--- */
with window_end as (
    select coalesce(try_cast(getvariable('as_of') as date), current_date) as as_of
),

paid as (
    select
        invoice_id,
        sum(skonto_amount) as skonto_taken,
        max(paid_on) as last_paid_on
    from raw.payments
    group by invoice_id
),

lost as (
    select
        i.tenant_id,
        i.invoice_id,
        i.partner_id as supplier_id,
        i.invoice_no,
        i.invoice_date,
        i.skonto_pct,
        i.skonto_days,
        i.net_days,
        i.invoice_date + i.skonto_days as skonto_until,
        p.last_paid_on,
        i.gross_amount,
        round(i.gross_amount * i.skonto_pct / 100, 2)::decimal(14, 2) as skonto_available,
        p.skonto_taken
    from raw.invoices as i
    join paid as p on p.invoice_id = i.invoice_id
    cross join window_end as w
    where
        i.kind = 'AP'
        and i.status = 'paid'
        and i.currency = 'EUR'
        and i.skonto_pct > 0
        and i.skonto_days is not null
        and p.last_paid_on > w.as_of - interval 12 month
        and p.last_paid_on <= w.as_of
)

select
    l.tenant_id,
    l.invoice_id,
    l.supplier_id,
    s.name as supplier_name,
    l.invoice_no,
    l.invoice_date,
    l.skonto_pct,
    l.skonto_until,
    l.last_paid_on,
    greatest(date_diff('day', l.skonto_until, l.last_paid_on), 0) as days_after_window,
    l.gross_amount,
    l.skonto_available,
    l.skonto_taken,
    (l.skonto_available - l.skonto_taken)::decimal(14, 2) as missed_amount,
    case
        when l.net_days > l.skonto_days
            then round(
                l.skonto_pct / (100 - l.skonto_pct) * 360 / (l.net_days - l.skonto_days) * 100, 2
            )::decimal(9, 2)
    end as annual_rate_pct
from lost as l
left join raw.suppliers as s on s.supplier_id = l.supplier_id
where l.skonto_available > l.skonto_taken
