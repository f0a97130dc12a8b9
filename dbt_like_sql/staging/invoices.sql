/* ---
description: >
  Invoices (AR and AP) with their due date, the last day Skonto may be taken, what has been paid
  and what is still open. Cancelled invoices are kept and marked.
owner: team:finance
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: invoice_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [invoice_id, tenant_id, kind, partner_id, invoice_date, gross_amount, net_days]
  # warn: an unknown value is a row-level problem: the row stays and the check lists it
  - accepted_values: {column: kind, values: [AP, AR], severity: warn}
  # warn: a row-level problem of the source; the invoice is real and stays, the check lists it
  - expression:
      name: gross_is_net_plus_tax
      sql: "select * from {{ this }} where abs(gross_amount - net_amount - tax_amount) > 0.01"
      severity: warn
--- */
with paid as (
    select
        invoice_id,
        sum(amount) as paid_amount,
        sum(skonto_amount) as skonto_taken,
        max(paid_on) as last_paid_on
    from raw.payments
    group by invoice_id
)

select
    i.invoice_id,
    i.tenant_id,
    i.invoice_no,
    i.kind,
    i.partner_id,
    i.invoice_date,
    i.net_amount,
    i.tax_amount,
    i.gross_amount,
    i.currency,
    i.skonto_pct,
    i.skonto_days,
    i.net_days,
    i.invoice_date + i.net_days as due_on,
    case when i.skonto_days is not null then i.invoice_date + i.skonto_days end as skonto_until,
    i.status,
    i.status = 'cancelled' as is_cancelled,
    coalesce(p.paid_amount, 0) as paid_amount,
    coalesce(p.skonto_taken, 0) as skonto_taken,
    case
        when i.status in ('paid', 'cancelled') then 0
        else greatest(i.gross_amount - coalesce(p.paid_amount, 0) - coalesce(p.skonto_taken, 0), 0)
    end as open_amount,
    p.last_paid_on,
    i.posted_at,
    i.updated_at
from raw.invoices as i
left join paid as p on p.invoice_id = i.invoice_id
