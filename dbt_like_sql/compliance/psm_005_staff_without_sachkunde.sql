/* ---
description: >
  PSM-005 (high): an order with plant protection products was sold by staff who hold no
  Sachkunde of their own.
owner: team:compliance
materialized: view
rule:
  id: PSM-005
  area: psm
  severity: high
  entity: sales_order
  subject: staff
  legal_basis: § 24 Abs. 1 PflSchG
  recommendation: >
    PSM nur durch sachkundiges Personal abgeben; Mitarbeiter schulen (Sachkundenachweis) und bis
    dahin im Kassensystem für PSM sperren.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
select
    l.order_id as entity_id,
    any_value(l.tenant_id) as tenant_id,
    any_value(l.sold_by) as subject_id,
    json_object(
        'staff', any_value(st.name), 'ordered_on', any_value(l.order_date),
        'psm_lines', count(*), 'customer_id', any_value(l.customer_id)
    ) as evidence
from staging.sales_order_lines as l
join staging.all_articles as a on a.article_id = l.article_id
join staging.staff as st on st.staff_id = l.sold_by
where l.went_ahead and a.category = 'psm' and not st.has_sachkunde
group by l.order_id
