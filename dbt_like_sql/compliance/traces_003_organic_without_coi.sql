/* ---
description: >
  TRACES-003 (critical): organic goods were sold after an import consignment of them arrived that
  has no endorsed certificate of inspection (COI): rejected, still pending, or none at all.
owner: team:compliance
materialized: view
rule:
  id: TRACES-003
  area: traces
  severity: critical
  entity: purchase_order
  subject: supplier
  legal_basis: Art. 45 VO (EU) 2018/848; Art. 6 VO (EU) 2021/2306
  recommendation: >
    Ware als nicht-ökologisch kennzeichnen oder sperren, Abnehmer informieren und das COI über die
    Kontrollstelle nachreichen lassen.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
with unendorsed as (
    -- organic consignments from outside the EU with no endorsed COI (rejected, pending or none at all)
    select
        pl.po_id,
        pl.supplier_id,
        pl.tenant_id,
        pl.article_id,
        coalesce(
            (select string_agg(d.status, ', ') from staging.import_documents as d where d.po_id = pl.po_id and d.kind = 'COI'),
            'none'
        ) as coi_status,
        coalesce(
            (select min(d.arrival_at) from staging.import_documents as d where d.po_id = pl.po_id),
            pl.received_at,
            cast(pl.expected_on as timestamptz)
        ) as arrival_at
    from staging.purchase_order_lines as pl
    join staging.all_articles as a on a.article_id = pl.article_id
    where a.is_organic
        and pl.is_import
        and pl.po_status <> 'cancelled'
        and not exists (
            select 1 from staging.import_documents as d
            where d.po_id = pl.po_id and d.kind = 'COI' and d.status = 'endorsed'
        )
)

select
    u.po_id as entity_id,
    any_value(u.tenant_id) as tenant_id,
    any_value(u.supplier_id) as subject_id,
    json_object(
        'coi_status', any_value(u.coi_status), 'arrival_at', any_value(u.arrival_at),
        'sales_lines_after_arrival', count(distinct l.line_id), 'first_sold_on', min(l.order_date)
    ) as evidence
from unendorsed as u
join staging.sales_order_lines as l
    on l.article_id = u.article_id and l.went_ahead and l.ordered_at > u.arrival_at
group by u.po_id
