/* ---
description: >
  Bestellvorschlag: what purchasing should order, per article and warehouse, with the day to
  order by and the reason in German. Only rows of inventory.reorder_plan with a quantity; the plan
  also holds every article and warehouse that gets none, and why.
owner: team:purchasing
materialized: view
columns:
  tenant_id: The tenant (company).
  article_id: The article's key.
  warehouse_id: The receiving warehouse.
  proposed_qty: Quantity to order, in the article's unit, whole packs, at least the minimum order quantity.
  order_by: Last day to place the order (the as-of day when it is already due).
  reason: Why, in German, for the buyer.
  article_no: Article number.
  article_name: Article name.
  unit: The article's unit.
  supplier_id: The article's supplier.
  expected_arrival: Delivery day if ordered on the as-of day.
  order_value: proposed_qty times the purchase price, EUR.
  customer_statement_required: An explosives precursor (EU 2019/1148), to be sold only with the customer statement.
  as_of: The day the plan was made for.
tests:
  - unique: [article_id, warehouse_id]
  - not_null: [tenant_id, article_id, warehouse_id, proposed_qty, order_by, reason]
  - expression:
      name: positive_whole_packs
      sql: >
        select p.* from {{ this }} as p join inventory.reorder_plan as r using (article_id, warehouse_id)
        where p.proposed_qty <= 0 or abs(p.proposed_qty / r.pack_size - round(p.proposed_qty / r.pack_size)) > 1e-6
          or p.proposed_qty < r.min_order_qty
  - expression:
      name: nothing_that_may_not_be_sold
      sql: >
        select p.* from {{ this }} as p join inventory.reorder_inputs as i using (article_id, warehouse_id)
        where not i.is_active or i.is_deleted or i.psm_authorization_unknown
          or i.psm_sellable_until < p.expected_arrival
--- */
select
    tenant_id,
    article_id,
    warehouse_id,
    proposed_qty,
    order_by,
    reason,
    article_no,
    article_name,
    unit,
    supplier_id,
    expected_arrival,
    cast(proposed_qty * unit_cost as decimal(18, 2)) as order_value,
    customer_statement_required,
    as_of
from inventory.reorder_plan
where status = 'order'
