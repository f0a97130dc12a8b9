/* ---
description: >
  GDPR-002 (medium): a customer's personal data is still kept although every period that obliged
  the trader to keep it has run out, and no legal hold keeps it. Each period starts at the end of
  the calendar year of the document (§ 147 (4) AO) and lasts by document type: invoices and booking
  vouchers 8 years (§ 147 (3) AO since 2025), business letters such as orders and confirmations
  6 years, PSM sales records 5 years (Art. 67 VO (EG) 1107/2009, so a naive rule cannot demand
  their deletion); the customer record itself counts as correspondence from the year it was
  created. Business dates only: a technical change (`updated_at`) no longer resets the clock.
owner: team:compliance
materialized: view
rule:
  id: GDPR-002
  area: gdpr
  severity: medium
  entity: customer
  subject: customer
  legal_basis: Art. 5 Abs. 1 lit. e, Art. 17 Abs. 1 lit. a DSGVO; § 147 Abs. 3 und 4 AO, § 257 HGB; Art. 67 VO (EG) 1107/2009
  recommendation: >
    Kundendaten löschen oder anonymisieren, soweit keine Aufbewahrungspflicht mehr besteht; falls
    eine Pflicht fortbesteht (z. B. offene Steuerfestsetzung), Sperrvermerk (Legal Hold) setzen
    und den Grund dokumentieren.
--- */
with documents as (
    select
        c.customer_id,
        c.tenant_id,
        c.customer_no,
        cast(c.created_at at time zone 'Europe/Berlin' as date) as created_on,
        (select max(i.invoice_date) from staging.invoices as i where i.kind = 'AR' and i.partner_id = c.customer_id)
            as last_invoice_on,
        (select max(o.order_date) from staging.sales_orders as o where o.customer_id = c.customer_id)
            as last_order_on,
        (
            select max(l.order_date)
            from staging.sales_order_lines as l
            join staging.all_articles as a on a.article_id = l.article_id
            where l.customer_id = c.customer_id and a.category = 'psm'
        ) as last_psm_sale_on
    from staging.all_customers as c
),

kept_until as (
    select
        d.*,
        greatest(
            make_date(year(d.created_on) + s.retention_years_letters, 12, 31),
            coalesce(make_date(year(d.last_invoice_on) + s.retention_years_vouchers, 12, 31), date '1900-01-01'),
            coalesce(make_date(year(d.last_order_on) + s.retention_years_letters, 12, 31), date '1900-01-01'),
            coalesce(make_date(year(d.last_psm_sale_on) + s.retention_years_psm_records, 12, 31), date '1900-01-01')
        ) as retain_until,
        s.as_of
    from documents as d
    cross join compliance.settings as s
)

select
    k.customer_id as entity_id,
    k.tenant_id,
    k.customer_id as subject_id,
    json_object(
        'customer_no', k.customer_no, 'created_on', k.created_on, 'last_invoice_on', k.last_invoice_on,
        'last_order_on', k.last_order_on, 'last_psm_sale_on', k.last_psm_sale_on, 'retain_until', k.retain_until
    ) as evidence
from kept_until as k
where k.retain_until < k.as_of
    and not exists (
        select 1 from staging.gdpr_requests as r where r.customer_id = k.customer_id and r.legal_hold
    )
