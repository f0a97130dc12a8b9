/* ---
description: Purchase order lines with their order's supplier, date and status.
owner: team:purchasing
materialized: view
tests:
  - unique: po_line_id
  - not_null: [po_line_id, po_id, article_id, quantity, origin_country_code]
  - relationships: {column: po_id, to: staging.purchase_orders, field: po_id}
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
    pl.origin_country_code not in (
        'AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU',
        'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK'
    ) as is_import,
    pl.dds_reference
from raw.purchase_order_lines as pl
join raw.purchase_orders as po on po.po_id = pl.po_id
