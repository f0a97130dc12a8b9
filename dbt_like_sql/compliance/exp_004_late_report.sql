/* ---
description: >
  EXP-004 (critical): a suspicious, refused or attempted transaction, or a significant loss or
  theft of an explosives precursor, was not reported to the national contact point within 24 hours
  of being flagged (Art. 9 (4): 24 hours of considering it suspicious; Art. 9 (5): 24 hours of
  detecting the loss). The late report is the trader's own failure: the root cause is the seller
  who handled the order, else the branch (warehouse) that shipped it or whose stock was lost, else
  the tenant; never the customer. A loss booked without any case at all is EXP-006's finding.
owner: team:compliance
materialized: view
rule:
  id: EXP-004
  area: explosives
  severity: critical
  entity: suspicious_transaction
  legal_basis: Art. 9 Abs. 4 und 5 VO (EU) 2019/1148; § 3 AusgStG (Kontaktstellen); § 14 Abs. 2 Nr. 6 AusgStG (Bußgeld)
  recommendation: >
    Fall unverzüglich der Kontaktstelle (Landeskriminalamt) melden und Aktenzeichen erfassen;
    Meldeweg, Zuständigkeit und Vertretung an Wochenenden festlegen und das Personal unterweisen
    (Art. 7 Abs. 2).
--- */
with late as (
    select t.*
    from staging.suspicious_transactions as t
    cross join compliance.settings as s
    where (t.reported_at is null and t.flagged_at < s.evaluated_at - to_hours(s.precursor_report_hours))
        or t.reported_at > t.flagged_at + to_hours(s.precursor_report_hours)
),

responsible as (
    -- the seller, else the branch (of the order's lines, else of the stock movement behind a loss);
    -- joins from the few late cases (correlated subqueries read every order line: 1 s at scale 1)
    select
        t.case_id,
        any_value(o.sold_by) as staff_id,
        coalesce(min(l.warehouse_id), min(m.warehouse_id)) as warehouse_id
    from late as t
    left join staging.sales_orders as o on o.order_id = t.order_id
    left join staging.sales_order_lines as l on l.order_id = t.order_id
    left join staging.stock_movements as m on m.reference_id = t.case_id
    group by t.case_id
)

select
    t.case_id as entity_id,
    t.tenant_id,
    case
        when r.staff_id is not null then 'staff'
        when r.warehouse_id is not null then 'warehouse'
        else 'tenant'
    end as subject_type,
    coalesce(r.staff_id, r.warehouse_id, t.tenant_id) as subject_id,
    json_object(
        'kind', t.kind, 'flagged_at', t.flagged_at, 'reported_at', t.reported_at,
        'hours_to_report', t.hours_to_report, 'order_id', t.order_id, 'customer_id', t.customer_id
    ) as evidence
from late as t
join responsible as r on r.case_id = t.case_id
