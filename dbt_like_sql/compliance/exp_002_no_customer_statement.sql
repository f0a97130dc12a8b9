/* ---
description: >
  EXP-002 (high): a restricted explosives precursor (Annex I) was sold to a professional user or
  another economic operator without a verified customer statement (Annex IV: identity of the
  representative, trade, company, VAT or register number, intended use) from the twelve months
  before the sale. Art. 8 (2) asks it for restricted precursors only: Annex II substances (calcium
  nitrate, potassium nitrate, ...) are reportable (Art. 9), not verified, and were wrongly in scope
  (about 3,700 demo lines); an ID check alone is not the statement. A sale that deviates
  significantly from earlier ones needs a new statement: EXP-003 finds those.
owner: team:compliance
materialized: view
rule:
  id: EXP-002
  area: explosives
  severity: high
  entity: sales_order_line
  subject: customer
  legal_basis: Art. 8 Abs. 2 und 4 VO (EU) 2019/1148; § 14 Abs. 2 Nr. 4 AusgStG (Bußgeld)
  recommendation: >
    Vor der Abgabe die Kundenerklärung nach Anhang IV einholen (Identität, Gewerbe, USt-IdNr.,
    Verwendungszweck), prüfen und 18 Monate aufbewahren; jährlich und bei auffälligen Abweichungen
    erneuern.
--- */
with statements as (
    select customer_id, issued_on, cast(verified_at at time zone 'Europe/Berlin' as date) as verified_on
    from staging.customer_certificates
    where kind = 'precursor_customer_statement' and is_verified
)

select
    l.line_id as entity_id,
    l.tenant_id,
    l.customer_id as subject_id,
    json_object(
        'order_id', l.order_id, 'ordered_on', l.order_date, 'article_no', a.article_no, 'article', a.name,
        'substance', a.substance, 'quantity', l.quantity, 'unit', a.unit,
        'last_statement_on', (select max(p.issued_on) from statements as p where p.customer_id = l.customer_id)
    ) as evidence
from staging.sales_order_lines as l
join compliance.precursor_articles as a on a.article_id = l.article_id
join staging.all_customers as c on c.customer_id = l.customer_id
cross join compliance.settings as s
where l.went_ahead
    and c.is_professional
    and a.is_restricted
    and not exists (
        select 1
        from statements as p
        where p.customer_id = l.customer_id
            and p.issued_on <= l.order_date
            and p.verified_on <= l.order_date
            and p.issued_on > l.order_date - to_months(s.precursor_verification_months)
    )
