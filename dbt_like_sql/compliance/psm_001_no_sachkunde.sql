/* ---
description: >
  PSM-001 (critical): a plant protection product authorised for professional users only was handed
  over to a buyer who had no Sachkunde certificate valid on the day of the order and checked by
  then, whatever the channel: counter, field, phone or webshop (the webshop's sales to private
  buyers were a rule of their own, PSM-006, which counted the same lines twice and judged being a
  professional instead of the buyer's Sachkunde that § 23 (1) asks for; it is gone). The review's
  "record who collected the goods" needs data the contract does not carry (no collector on the
  order): the buyer is the customer.
owner: team:compliance
materialized: view
rule:
  id: PSM-001
  area: psm
  severity: critical
  entity: sales_order_line
  subject: customer
  legal_basis: § 23 Abs. 1 PflSchG i. V. m. § 9 Abs. 1 PflSchG; § 68 Abs. 1 PflSchG (Bußgeld)
  recommendation: >
    Profi-PSM nur gegen geprüften Sachkundenachweis abgeben (Karte und, beim Erstkauf, Ausweis;
    Leitlinie der Länder zu § 23 Abs. 1 PflSchG): Nachweis beim Kunden anfordern, prüfen und im
    Kundenstamm dokumentieren; bis dahin den Kunden für Profi-PSM sperren, auch im Webshop.
--- */
with sachkunde as (
    select customer_id, issued_on, valid_through, cast(verified_at at time zone 'Europe/Berlin' as date) as verified_on
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
