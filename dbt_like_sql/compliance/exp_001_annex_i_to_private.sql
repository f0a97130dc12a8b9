/* ---
description: >
  EXP-001 (critical): a restricted explosives precursor (Annex I above its limit, e.g. ammonium
  nitrate with 16 % N or more from ammonium nitrate, hydrogen peroxide above 12 %) was made
  available to a customer who is not a professional user. Germany issues no licences to the
  general public (Art. 5 (3) not used), so there is no exception. Judged by
  compliance.precursor_articles.
owner: team:compliance
materialized: view
rule:
  id: EXP-001
  area: explosives
  severity: critical
  entity: sales_order_line
  subject: customer
  legal_basis: Art. 5 Abs. 1 VO (EU) 2019/1148; §§ 13, 14 AusgStG
  recommendation: >
    Keine Abgabe beschränkter Ausgangsstoffe an Privatpersonen: Vorgang prüfen, Ware zurückfordern,
    verdächtige Umstände binnen 24 Stunden der Kontaktstelle des LKA melden; Artikel für
    Privatkunden und den Webshop sperren.
--- */
select
    l.line_id as entity_id,
    l.tenant_id,
    l.customer_id as subject_id,
    json_object(
        'order_id', l.order_id, 'ordered_on', l.order_date, 'article_no', a.article_no, 'article', a.name,
        'substance', a.substance, 'n_from_an_pct', a.n_from_an_pct, 'concentration_pct', a.concentration_pct,
        'annex', coalesce(a.annex_by_content, a.recorded_annex), 'quantity', l.quantity, 'unit', a.unit,
        'customer_no', c.customer_no, 'customer_type', c.customer_type
    ) as evidence
from staging.sales_order_lines as l
join compliance.precursor_articles as a on a.article_id = l.article_id
join staging.all_customers as c on c.customer_id = l.customer_id
where l.went_ahead and a.is_restricted and not c.is_professional
