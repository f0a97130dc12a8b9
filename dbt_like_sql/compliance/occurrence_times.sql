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
        ('article', 'supplier', 'customer', 'staff', 'warehouse', 'gdpr_request', 'manure_partner_year', 'tenant')
        group by entity_type
--- */
with events as (
    -- a sale: when it was ordered
    select
        'sales_order_line' as entity_type,
        l.line_id as entity_id,
        o.ordered_at as occurred_at
    from raw.sales_order_lines as l
    join raw.sales_orders as o on o.order_id = l.order_id
    union all
    select
        'sales_order',
        order_id,
        ordered_at
    from raw.sales_orders
    -- a purchase: when the goods arrived, or were ordered while they have not
    union all
    select
        'purchase_order_line',
        pl.po_line_id,
        coalesce(pl.received_at, po.ordered_at)
    from raw.purchase_order_lines as pl
    join raw.purchase_orders as po on po.po_id = pl.po_id
    union all
    select
        'purchase_order',
        po_id,
        ordered_at
    from raw.purchase_orders
    union all
    select
        'import_document',
        document_id,
        arrival_at
    from raw.import_documents
    union all
    select
        'manure_delivery',
        delivery_id,
        cast(delivered_on as timestamptz)
    from raw.manure_deliveries
    union all
    select
        'suspicious_transaction',
        case_id,
        flagged_at
    from raw.suspicious_transactions
    union all
    select
        'stock_movement',
        movement_id,
        occurred_at
    from raw.stock_movements
    -- an invoice: its date; a payment: when it was paid
    union all
    select
        'invoice',
        invoice_id,
        cast(invoice_date as timestamptz)
    from raw.invoices
    union all
    select
        'payment',
        payment_id,
        cast(paid_on as timestamptz)
    from raw.payments
),

audit_entries as (
    -- an audit entry: when it was written; a missing one (a gap in the sequence): when the entry
    -- before it was
    select
        v.violation_id,
        a.occurred_at
    from compliance.violations as v
    asof join raw.audit_log as a on try_cast(v.entity_id as bigint) >= a.seq
    where v.entity_type = 'audit_log'
)

select
    v.violation_id,
    v.case_id,
    v.entity_type,
    v.entity_id,
    coalesce(e.occurred_at, a.occurred_at) as occurred_at,
    coalesce(e.occurred_at, a.occurred_at) is null as standing
from compliance.violations as v
left join events as e on e.entity_type = v.entity_type and e.entity_id = v.entity_id
left join audit_entries as a on a.violation_id = v.violation_id
