/* ---
description: >
  PSM-005 (high): an order with plant protection products was handed over by staff who hold no
  Sachkunde of their own, or, where the ERP names no seller (webshop, unnamed counter sales), no
  Sachkunde holder is named responsible for it. § 9 Abs. 1 Nr. 4 and 5 PflSchG require the
  Sachkunde of whoever places PSM on the market commercially or over the internet; § 24, cited
  before, is the duty to notify the sales site. The root cause is the trader's own: the seller
  (staff), or the branch (warehouse) that shipped an order nobody qualified answered for, never
  the customer.
owner: team:compliance
materialized: view
rule:
  id: PSM-005
  area: psm
  severity: high
  entity: sales_order
  legal_basis: § 9 Abs. 1 Nr. 4 und 5 PflSchG; § 68 Abs. 1 PflSchG (Bußgeld)
  recommendation: >
    PSM nur durch sachkundiges Personal abgeben und für Webshop-Bestellungen eine sachkundige
    verantwortliche Person im Auftrag benennen; Mitarbeiter ohne Sachkundenachweis im Kassen- und
    Webshopsystem für PSM sperren, bis der Nachweis vorliegt.
--- */
with psm_orders as (
    select
        l.order_id,
        any_value(l.tenant_id) as tenant_id,
        any_value(l.sold_by) as sold_by,
        any_value(l.channel) as channel,
        any_value(l.order_date) as order_date,
        any_value(l.customer_id) as customer_id,
        min(l.warehouse_id) as warehouse_id,
        count(*) as psm_lines
    from staging.sales_order_lines as l
    join staging.all_articles as a on a.article_id = l.article_id
    where l.went_ahead and a.category = 'psm'
    group by l.order_id
)

select
    o.order_id as entity_id,
    o.tenant_id,
    case when o.sold_by is null then 'warehouse' else 'staff' end as subject_type,
    coalesce(o.sold_by, o.warehouse_id) as subject_id,
    json_object(
        'problem', case when o.sold_by is null then 'no Sachkunde holder named' else 'seller without Sachkunde' end,
        'staff', st.name, 'channel', o.channel, 'ordered_on', o.order_date, 'psm_lines', o.psm_lines,
        'warehouse_id', o.warehouse_id, 'customer_id', o.customer_id
    ) as evidence
from psm_orders as o
left join staging.staff as st on st.staff_id = o.sold_by
where o.sold_by is null or not coalesce(st.has_sachkunde, false)
