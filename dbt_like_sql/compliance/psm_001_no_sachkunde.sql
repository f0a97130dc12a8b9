/* ---
description: >
  PSM-001 (critical): a plant protection product for professional users only was sold to a
  customer who had no Sachkunde certificate valid on the day of the order and checked by then.
owner: team:compliance
materialized: view
rule:
  id: PSM-001
  area: psm
  severity: critical
  entity: sales_order_line
  subject: customer
  legal_basis: § 9 Abs. 1, § 23 Abs. 1 PflSchG
  recommendation: >
    Profi-PSM nur gegen geprüften Sachkundenachweis abgeben: Nachweis beim Kunden anfordern, prüfen
    und im Kundenstamm dokumentieren; bis dahin den Kunden für Profi-PSM sperren.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
with sachkunde as (
    select customer_id, issued_on, valid_through, cast(verified_at as date) as verified_on
    from staging.customer_certificates
    where kind = 'psm_sachkunde' and is_verified
)

select
    l.line_id as entity_id,
    l.tenant_id,
    l.customer_id as subject_id,
    json_object(
        'customer_id', l.customer_id, 'order_id', l.order_id, 'ordered_on', l.order_date,
        'article_id', a.article_id, 'article_no', a.article_no, 'article', a.name, 'bvl_no', a.psm_reg_no,
        'quantity', l.quantity, 'channel', l.channel
    ) as evidence
from staging.sales_order_lines as l
join staging.all_articles as a on a.article_id = l.article_id
where l.went_ahead
    and a.category = 'psm'
    and a.psm_professional_only
    and not exists (
        select 1
        from sachkunde as s
        where s.customer_id = l.customer_id
            and s.issued_on <= l.order_date
            and s.valid_through >= l.order_date
            and s.verified_on <= l.order_date  -- shown and checked by the day of the sale
    )
