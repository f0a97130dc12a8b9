/* ---
description: >
  Purchase order lines with their order's supplier, date and status, the lot (`batch_no`) and the
  country the goods were shipped from (`dispatched_from`: `dispatch_country_code`, or the origin
  where the ERP records none, contract 1.1). Goods shipped from outside the EU are an import by this
  tenant (`is_import`). A line whose order is missing is left out; quarantine.model_rows keeps it
  with the reason.
owner: team:purchasing
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: po_line_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [po_line_id, po_id, article_id, quantity, origin_country_code]
  # error: orphans are quarantined below, so a failure here means this model's join is broken
  - relationships: {column: po_id, to: staging.purchase_orders, field: po_id}
quarantine:
  - name: order_missing
    where: ordered_at is null
    reason: the line's purchase order is not in the warehouse (deleted at the source since)
--- */
select
    pl.po_line_id,
    pl.tenant_id,
    pl.po_id,
    po.supplier_id,
    po.ordered_at,
    po.expected_on,
    po.status as po_status,
    pl.article_id,
    pl.warehouse_id,
    pl.quantity,
    pl.unit_price,
    pl.received_at,
    pl.origin_country_code,
    pl.dispatch_country_code,
    coalesce(pl.dispatch_country_code, pl.origin_country_code) as dispatched_from,
    coalesce(pl.dispatch_country_code, pl.origin_country_code) not in (
        'AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU',
        'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK'
    ) as is_import,
    pl.dds_reference,
    pl.batch_no
from raw.purchase_order_lines as pl
left join raw.purchase_orders as po on po.po_id = pl.po_id
