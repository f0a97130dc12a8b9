/* ---
description: >
  GDPR-002 (medium): a customer's personal data is kept although the last business with them
  (creation, change, order or invoice) lies beyond the retention period (10 years), and no legal
  hold keeps it.
owner: team:compliance
materialized: view
rule:
  id: GDPR-002
  area: gdpr
  severity: medium
  entity: customer
  subject: customer
  legal_basis: Art. 5 Abs. 1 lit. e, Art. 17 DSGVO; § 147 AO, § 257 HGB
  recommendation: >
    Kundendaten löschen oder anonymisieren; falls eine Aufbewahrungspflicht besteht, Sperrvermerk
    (Legal Hold) setzen.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
with activity as (
    select
        c.customer_id,
        c.tenant_id,
        c.customer_no,
        greatest(
            cast(c.created_at as date),
            cast(c.updated_at as date),
            coalesce((select max(o.order_date) from staging.sales_orders as o where o.customer_id = c.customer_id), date '1900-01-01'),
            coalesce(
                (select max(i.invoice_date) from staging.invoices as i where i.kind = 'AR' and i.partner_id = c.customer_id),
                date '1900-01-01'
            )
        ) as last_activity_on
    from staging.all_customers as c
)

select
    a.customer_id as entity_id,
    a.tenant_id,
    a.customer_id as subject_id,
    json_object('customer_no', a.customer_no, 'last_activity_on', a.last_activity_on) as evidence
from activity as a
cross join compliance.settings as s
where a.last_activity_on < s.as_of - to_years(s.retention_years)
    and not exists (
        select 1 from staging.gdpr_requests as r where r.customer_id = a.customer_id and r.legal_hold
    )
