/* ---
description: >
  EXP-001 (critical): a restricted explosives precursor (Annex I, e.g. ammonium nitrate with 16 % N
  or more from ammonium nitrate) was sold to a customer who is not a professional user.
owner: team:compliance
materialized: view
rule:
  id: EXP-001
  area: explosives
  severity: critical
  entity: sales_order_line
  subject: customer
  legal_basis: Art. 5 Abs. 1 VO (EU) 2019/1148; § 13 AusgStG
  recommendation: >
    Keine Abgabe beschränkter Ausgangsstoffe an Privatpersonen: Vorgang prüfen, Ware zurückfordern,
    verdächtige Umstände der Kontaktstelle des LKA melden; Artikel für Privatkunden sperren.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
select
    l.line_id as entity_id,
    l.tenant_id,
    l.customer_id as subject_id,
    json_object(
        'order_id', l.order_id, 'ordered_on', l.order_date, 'article_no', a.article_no, 'article', a.name,
        'n_from_an_pct', a.n_from_an_pct, 'annex', coalesce(a.precursor_annex_by_content, a.precursor_annex),
        'quantity', l.quantity, 'unit', a.unit, 'customer_no', c.customer_no, 'customer_type', c.customer_type
    ) as evidence
from staging.sales_order_lines as l
join staging.all_articles as a on a.article_id = l.article_id
join raw.customers as c on c.customer_id = l.customer_id
cross join compliance.settings as s
where l.went_ahead
    and not c.is_professional
    and (a.precursor_annex = 'I' or a.n_from_an_pct >= s.an_restricted_n_pct)
