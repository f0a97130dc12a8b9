/* ---
description: >
  EXP-002 (high): an explosives precursor (Annex I or II) was sold to a professional customer
  without a verified customer statement or ID verification from the last 12 months.
owner: team:compliance
materialized: view
rule:
  id: EXP-002
  area: explosives
  severity: high
  entity: sales_order_line
  subject: customer
  legal_basis: Art. 8 VO (EU) 2019/1148
  recommendation: >
    Vor der Abgabe Kundenerklärung (Anhang IV) einholen und Identität prüfen; Nachweis 18 Monate
    aufbewahren, jährlich erneuern.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
with papers as (
    select customer_id, issued_on, cast(verified_at as date) as verified_on
    from staging.customer_certificates
    where kind in ('precursor_customer_statement', 'id_verification') and is_verified
)

select
    l.line_id as entity_id,
    l.tenant_id,
    l.customer_id as subject_id,
    json_object(
        'order_id', l.order_id, 'ordered_on', l.order_date, 'article_no', a.article_no, 'article', a.name,
        'annex', coalesce(a.precursor_annex_by_content, a.precursor_annex), 'quantity', l.quantity,
        'last_statement_on', (select max(p.issued_on) from papers as p where p.customer_id = l.customer_id)
    ) as evidence
from staging.sales_order_lines as l
join staging.all_articles as a on a.article_id = l.article_id
join raw.customers as c on c.customer_id = l.customer_id
cross join compliance.settings as s
where l.went_ahead
    and c.is_professional
    and (a.precursor_annex is not null or a.precursor_annex_by_content is not null)
    and not exists (
        select 1
        from papers as p
        where p.customer_id = l.customer_id
            and p.issued_on <= l.order_date
            and p.verified_on <= l.order_date
            and p.issued_on > l.order_date - to_months(s.precursor_verification_months)
    )
