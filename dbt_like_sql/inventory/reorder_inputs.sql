/* ---
description: >
  Everything the reorder plan needs of each article and warehouse, one row per pair that is
  stocked, was sold from in the history, or has goods on order: the article's pack size, minimum
  order quantity, lead time and supplier, its stock, the supplier's delivery reliability, the
  warehouse capacity, and the PSM sell-out end from compliance.settings (authorisation end plus
  psm_sellout_months, none after a withdrawal for risk). Inactive and deleted articles stay in,
  marked, so the plan can say why they get no proposal.
owner: team:purchasing
materialized: table
columns:
  tenant_id: The tenant (company).
  article_id: The article's key.
  warehouse_id: The warehouse's key.
  article_no: Article number as printed on documents.
  article_name: Article name.
  category: psm, fertilizer, seed, feed, grain, biostimulant or other.
  unit: The article's unit (t, kg, l, bag, piece).
  pack_size: Quantity of one pack, in the unit; orders are whole packs.
  min_order_qty: Minimum order quantity, in the unit.
  lead_time_days: Days from order to delivery (the article's).
  supplier_id: The article's supplier, if any.
  supplier_name: Its name.
  unit_cost: Purchase price per unit, EUR.
  is_active: The article is active in the ERP.
  is_deleted: The article is soft-deleted.
  psm_reg_no: BVL number of a PSM.
  psm_authorized_until: End of the PSM authorisation.
  psm_withdrawal_kind: expired, holder_request or authority_risk.
  psm_sellable_until: Last day the PSM may be sold (authorisation end plus sell-out period).
  psm_authorization_unknown: A PSM without an authorisation end in the ERP.
  precursor_annex: Annex of EU 2019/1148 (I or II) as recorded, or by content where not recorded.
  warehouse_name: The warehouse's name.
  capacity_t: Storage capacity of the warehouse in tonnes (null means unlimited).
  on_hand: Stock on hand.
  reserved: Stock reserved for open sales orders.
  supplier_receipts: The supplier's receipts in the last two years.
  supplier_delay_std_days: Standard deviation of the supplier's delivery delay, days.
  as_of: The day the plan is made for (compliance.settings).
tests:
  - unique: [article_id, warehouse_id]
  - not_null: [tenant_id, article_id, warehouse_id, category, unit, on_hand, reserved, as_of]
--- */
with pairs as (
    select article_id, warehouse_id from staging.stock_levels
    union
    select article_id, warehouse_id from inventory.demand_weekly
    union
    select article_id, warehouse_id from inventory.open_purchase_orders
)

select
    a.tenant_id,
    p.article_id,
    p.warehouse_id,
    a.article_no,
    a.name as article_name,
    a.category,
    a.unit,
    a.pack_size,
    a.min_order_qty,
    a.lead_time_days,
    a.supplier_id,
    sup.name as supplier_name,
    a.unit_cost,
    coalesce(a.is_active, false) as is_active,
    a.deleted_at is not null as is_deleted,
    a.psm_reg_no,
    a.psm_authorized_until,
    a.psm_withdrawal_kind,
    case
        when a.category <> 'psm' or a.psm_authorized_until is null then null
        when a.psm_withdrawal_kind = 'authority_risk' then a.psm_authorized_until
        else cast(a.psm_authorized_until + to_months(s.psm_sellout_months) as date)
    end as psm_sellable_until,
    a.category = 'psm' and a.psm_authorized_until is null as psm_authorization_unknown,
    coalesce(a.precursor_annex, a.precursor_annex_by_content) as precursor_annex,
    w.name as warehouse_name,
    w.capacity_t,
    coalesce(st.on_hand, 0) as on_hand,
    coalesce(st.reserved, 0) as reserved,
    coalesce(d.receipts, 0) as supplier_receipts,
    d.delay_std_days as supplier_delay_std_days,
    s.as_of
from pairs as p
join staging.all_articles as a on a.article_id = p.article_id
join staging.warehouses as w on w.warehouse_id = p.warehouse_id
cross join compliance.settings as s
left join staging.stock_levels as st on st.article_id = p.article_id and st.warehouse_id = p.warehouse_id
left join raw.suppliers as sup on sup.supplier_id = a.supplier_id
left join inventory.supplier_delivery as d on d.supplier_id = a.supplier_id
