/* ---
description: >
  TRACES-003 (critical): organic goods were sold from an import consignment whose certificate of
  inspection (COI) was not endorsed.
owner: team:compliance
materialized: view
tests:
  - unique: entity_id
--- */
with unendorsed as (
    select pl.po_id, pl.supplier_id, pl.tenant_id, pl.article_id, d.status as coi_status, d.arrival_at
    from staging.purchase_order_lines as pl
    join staging.articles as a on a.article_id = pl.article_id
    join staging.import_documents as d on d.po_id = pl.po_id and d.kind = 'COI'
    where a.is_organic and d.status <> 'endorsed'
)

select
    'TRACES-003' as rule_id,
    'traces' as area,
    'critical' as severity,
    'purchase_order' as entity_type,
    u.po_id as entity_id,
    any_value(u.tenant_id) as tenant_id,
    'supplier' as subject_type,
    any_value(u.supplier_id) as subject_id,
    json_object(
        'coi_status', any_value(u.coi_status), 'arrival_at', any_value(u.arrival_at),
        'sales_lines_after_arrival', count(distinct l.line_id), 'first_sold_on', min(l.order_date)
    ) as evidence,
    'Art. 45 VO (EU) 2018/848; Art. 6 VO (EU) 2021/2306' as legal_basis,
    'Ware als nicht-ökologisch kennzeichnen oder sperren, Abnehmer informieren und das COI über die '
    || 'Kontrollstelle nachreichen lassen.' as recommendation
from unendorsed as u
join staging.sales_order_lines as l
    on l.article_id = u.article_id and l.went_ahead and l.ordered_at > u.arrival_at
group by u.po_id
