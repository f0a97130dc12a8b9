/* ---
description: >
  EXP-003 (medium): a customer ordered more than twice their previous largest quantity of an
  explosives precursor substance; the sale needs a review for a suspicious transaction.
owner: team:compliance
materialized: view
rule:
  id: EXP-003
  area: explosives
  severity: medium
  entity: sales_order_line
  subject: customer
  legal_basis: Art. 9 Abs. 1 VO (EU) 2019/1148; Leitlinien 2020/C 210/01
  recommendation: >
    Ungewöhnliche Menge prüfen: Verwendungszweck erfragen und dokumentieren; bei Verdacht binnen 24
    Stunden der Kontaktstelle melden.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
with history as (
    select
        l.line_id,
        l.tenant_id,
        l.customer_id,
        l.order_id,
        l.order_date,
        l.quantity * case a.unit when 't' then 1000 else 1 end as quantity_kg,
        a.precursor_substance,
        max(l.quantity * case a.unit when 't' then 1000 else 1 end) over (
            partition by l.customer_id, a.precursor_substance
            order by l.ordered_at, l.line_id
            rows between unbounded preceding and 1 preceding
        ) as previous_max_kg
    from staging.sales_order_lines as l
    join staging.all_articles as a on a.article_id = l.article_id
    where l.went_ahead and a.precursor_substance is not null
)

select
    h.line_id as entity_id,
    h.tenant_id,
    h.customer_id as subject_id,
    json_object(
        'order_id', h.order_id, 'ordered_on', h.order_date, 'substance', h.precursor_substance,
        'quantity_kg', h.quantity_kg, 'previous_max_kg', h.previous_max_kg
    ) as evidence
from history as h
cross join compliance.settings as s
where h.quantity_kg > s.precursor_quantity_factor * h.previous_max_kg
