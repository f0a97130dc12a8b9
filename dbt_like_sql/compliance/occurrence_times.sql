/* ---
description: >
  When each open violation happened: the business event behind it (the sale, the delivery, the
  import, the posting), so that the scores can leave out events older than the look-back window
  (compliance.settings.score_lookback_days). A finding about a standing state (an article, a
  supplier, a customer's data, an open GDPR request, a staff member) has no event: it is current
  for as long as it is found (standing). So is a finding whose entity type is not listed below,
  so that a new rule is never scored less than it should be: list its event time here (the warn
  test unmapped_entity_types names them).
owner: team:compliance
materialized: table
columns:
  violation_id: The open violation (compliance.violations).
  case_id: Its case (compliance.cases).
  entity_type: What the finding is about.
  entity_id: Its key.
  occurred_at: When the event behind it happened (null for a standing state).
  standing: true when the finding is about a state that holds now, not a past event.
tests:
  # error: compliance.cases joins on it; a second row would double an occurrence
  - unique: violation_id
  - not_null: [violation_id, case_id, standing]
  # warn: an unlisted entity type is scored as standing (never dropped), but its past events never age
  - expression:
      name: unmapped_entity_types
      severity: warn
      sql: >
        select entity_type, count(*) as findings from {{ this }} where standing and entity_type not in
        ('article', 'psm_product', 'supplier', 'customer', 'business_partner', 'staff', 'warehouse', 'gdpr_request',
        'tenant')
        group by entity_type
--- */
with wanted as (
    -- only the open violations' entities are looked up (a join on every sale would read them all)
    select violation_id, case_id, entity_type, entity_id from compliance.violations
),

events as (
    -- a sale: when it was ordered
    select
        w.violation_id,
        o.ordered_at as occurred_at
    from wanted as w
    join raw.sales_order_lines as l on l.line_id = w.entity_id
    join raw.sales_orders as o on o.order_id = l.order_id
    where w.entity_type = 'sales_order_line'
    union all
    select
        w.violation_id,
        o.ordered_at
    from wanted as w
    join raw.sales_orders as o on o.order_id = w.entity_id
    where w.entity_type = 'sales_order'
    -- a purchase: when the goods arrived, or were ordered while they have not
    union all
    select
        w.violation_id,
        coalesce(pl.received_at, po.ordered_at)
    from wanted as w
    join raw.purchase_order_lines as pl on pl.po_line_id = w.entity_id
    join raw.purchase_orders as po on po.po_id = pl.po_id
    where w.entity_type = 'purchase_order_line'
    union all
    select
        w.violation_id,
        po.ordered_at
    from wanted as w
    join raw.purchase_orders as po on po.po_id = w.entity_id
    where w.entity_type = 'purchase_order'
    union all
    select
        w.violation_id,
        d.arrival_at
    from wanted as w
    join raw.import_documents as d on d.document_id = w.entity_id
    where w.entity_type = 'import_document'
    union all
    select
        w.violation_id,
        cast(m.delivered_on as timestamp) at time zone 'Europe/Berlin'
    from wanted as w
    join raw.manure_deliveries as m on m.delivery_id = w.entity_id
    where w.entity_type = 'manure_delivery'
    union all
    select
        w.violation_id,
        t.flagged_at
    from wanted as w
    join raw.suspicious_transactions as t on t.case_id = w.entity_id
    where w.entity_type = 'suspicious_transaction'
    union all
    select
        w.violation_id,
        m.occurred_at
    from wanted as w
    join raw.stock_movements as m on m.movement_id = w.entity_id
    where w.entity_type = 'stock_movement'
    -- an invoice: its date; a payment: when it was paid (a day begins at German midnight, whatever
    -- the session's time zone)
    union all
    select
        w.violation_id,
        cast(i.invoice_date as timestamp) at time zone 'Europe/Berlin'
    from wanted as w
    join raw.invoices as i on i.invoice_id = w.entity_id
    where w.entity_type = 'invoice'
    union all
    select
        w.violation_id,
        cast(p.paid_on as timestamp) at time zone 'Europe/Berlin'
    from wanted as w
    join raw.payments as p on p.payment_id = w.entity_id
    where w.entity_type = 'payment'
    -- a yearly duty ('<tenant>/<year>'): the end of that year
    union all
    select
        w.violation_id,
        cast(make_date(try_cast(regexp_extract(w.entity_id, '/(\d{4})$', 1) as integer), 12, 31) as timestamp)
            at time zone 'Europe/Berlin'
    from wanted as w
    where w.entity_type = 'tenant_year'
    -- an audit entry: when it was written; a missing one (a gap in the sequence, keyed 'first..last'):
    -- when the entry before it was
    union all
    select
        w.violation_id,
        a.occurred_at
    from wanted as w
    asof join raw.audit_log as a on try_cast(split_part(w.entity_id, '..', 1) as bigint) >= a.seq
    where w.entity_type = 'audit_log'
)

select
    w.violation_id,
    w.case_id,
    w.entity_type,
    w.entity_id,
    e.occurred_at,
    e.occurred_at is null as standing
from wanted as w
left join events as e on e.violation_id = w.violation_id
