/* ---
description: >
  EXP-003 (medium): a customer ordered more than twice the usual quantity of an explosives
  precursor substance, usual being the larger of the customer's own largest order of it in the
  twelve months before and what customers of the same kind (farm, contractor, ...) commonly buy
  (the 90th percentile of their lines at this tenant). A first purchase is judged against its peers
  (before, it had no history and was never judged: 1,699 demo lines up to 47 t), and a seasonal
  top-up within the customer's own range of the past year is not unusual. The sale needs a review
  for a suspicious transaction (Art. 9 (1), (2): quantities uncommon for the intended use).
owner: team:compliance
materialized: view
rule:
  id: EXP-003
  area: explosives
  severity: medium
  entity: sales_order_line
  subject: customer
  legal_basis: Art. 9 Abs. 1 und 2 VO (EU) 2019/1148; Leitlinien 2020/C 210/01, Abschnitt V
  recommendation: >
    Ungewöhnliche Menge prüfen: Verwendungszweck und Betriebsgröße erfragen und dokumentieren,
    ggf. neue Kundenerklärung einholen; bei Verdacht binnen 24 Stunden der Kontaktstelle melden.
--- */
with lines as (
    select
        l.line_id,
        l.tenant_id,
        l.customer_id,
        l.order_id,
        l.order_date,
        l.ordered_at,
        c.customer_type,
        a.substance,
        l.quantity * case a.unit when 't' then 1000 else 1 end as quantity_kg
    from staging.sales_order_lines as l
    join compliance.precursor_articles as a on a.article_id = l.article_id
    join staging.all_customers as c on c.customer_id = l.customer_id
    where l.went_ahead and a.is_reportable and a.substance is not null
),

peers as (
    select tenant_id, substance, customer_type, quantile_cont(quantity_kg, 0.9) as peer_p90_kg
    from lines
    group by all
),

own as (
    select l.line_id, max(h.quantity_kg) as own_max_kg
    from lines as l
    join lines as h
        on h.customer_id = l.customer_id
        and h.substance = l.substance
        and h.ordered_at < l.ordered_at
        and h.ordered_at >= l.ordered_at - to_hours(24 * 365)  -- 365 days of 24 h, in any session time zone
    group by l.line_id
)

select
    l.line_id as entity_id,
    l.tenant_id,
    l.customer_id as subject_id,
    json_object(
        'order_id', l.order_id, 'ordered_on', l.order_date, 'substance', l.substance,
        'quantity_kg', l.quantity_kg, 'own_max_12_months_kg', o.own_max_kg, 'peer_p90_kg', p.peer_p90_kg,
        'customer_type', l.customer_type
    ) as evidence
from lines as l
join peers as p using (tenant_id, substance, customer_type)
left join own as o on o.line_id = l.line_id
cross join compliance.settings as s
where l.quantity_kg > s.precursor_quantity_factor * greatest(coalesce(o.own_max_kg, 0), p.peer_p90_kg)
