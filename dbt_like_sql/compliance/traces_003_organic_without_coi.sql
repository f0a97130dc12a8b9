/* ---
description: >
  TRACES-003 (critical): organic goods were sold from an import consignment whose certificate of
  inspection (COI) was raised but not endorsed (rejected, or still pending at the border). Sales
  are traced to the lot by `batch_no` (contract 1.1): before, every sale of the article after the
  arrival counted (541 t of wheat sold against 69 t in the rejected consignment). Where the
  consignment records no lot, sales of the article after its arrival count, each to the latest
  such consignment. A consignment with no COI at all is TRACES-001's finding (the missing
  document), not counted here again. One finding per sales line; the consignment is the root cause.
owner: team:compliance
materialized: view
rule:
  id: TRACES-003
  area: traces
  severity: critical
  entity: sales_order_line
  subject: purchase_order
  legal_basis: Art. 45 Abs. 1 VO (EU) 2018/848; Art. 6 VO (EU) 2021/2306
  recommendation: >
    Restmenge der Partie sperren und als nicht-ökologisch kennzeichnen, Abnehmer der Partie
    informieren (Bio-Auslobung zurücknehmen) und das COI über die Kontrollstelle klären lassen.
--- */
with unendorsed as (
    -- organic consignments from outside the EU whose COI exists but is not endorsed
    select
        pl.po_line_id,
        pl.po_id,
        pl.tenant_id,
        pl.article_id,
        pl.batch_no,
        pl.quantity as lot_quantity,
        (select string_agg(d.status, ', ') from staging.import_documents as d where d.po_id = pl.po_id and d.kind = 'COI')
            as coi_status,
        coalesce(
            (select min(d.arrival_at) from staging.import_documents as d where d.po_id = pl.po_id),
            pl.received_at,
            cast(pl.expected_on as timestamp) at time zone 'Europe/Berlin'  -- the start of the German day
        ) as arrival_at
    from staging.purchase_order_lines as pl
    join staging.all_articles as a on a.article_id = pl.article_id
    where a.is_organic
        and pl.is_import
        and pl.po_status <> 'cancelled'
        and exists (select 1 from staging.import_documents as d where d.po_id = pl.po_id and d.kind = 'COI')
        and not exists (
            select 1 from staging.import_documents as d
            where d.po_id = pl.po_id and d.kind = 'COI' and d.status = 'endorsed'
        )
),

traced as (
    -- by lot where the consignment records one, else the article's sales after the arrival
    select
        l.line_id,
        l.tenant_id,
        l.customer_id,
        l.quantity,
        l.order_date,
        u.po_line_id,
        u.po_id,
        u.batch_no,
        u.lot_quantity,
        u.coi_status,
        u.arrival_at,
        row_number() over (partition by l.line_id order by u.arrival_at desc, u.po_line_id desc) as rank
    from staging.sales_order_lines as l
    join unendorsed as u
        on u.article_id = l.article_id
        and l.went_ahead
        and l.ordered_at > u.arrival_at
        and (u.batch_no is null or l.batch_no = u.batch_no)
)

select
    t.line_id as entity_id,
    t.tenant_id,
    t.po_id as subject_id,
    json_object(
        'po_id', t.po_id, 'coi_status', t.coi_status, 'arrival_at', t.arrival_at, 'batch_no', t.batch_no,
        'traced_by', case when t.batch_no is null then 'article sold after arrival' else 'lot' end,
        'lot_quantity', t.lot_quantity, 'sold_quantity', t.quantity, 'sold_on', t.order_date,
        'customer_id', t.customer_id
    ) as evidence
from traced as t
where t.rank = 1
