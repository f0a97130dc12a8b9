/* ---
description: >
  GDPR-003 (high): marketing went to a customer (an export for an e-mail or phone campaign in the
  audit trail) without the permission its channel and the recipient need. E-mail: consent in force,
  or the existing-customer exception of § 7 (3) UWG (the customer bought before and has not objected,
  a revoked consent counting as objection; the notice of the right to object is assumed to be in
  every mailing, which the ERP does not record). Phone: a consumer's prior express consent; a
  business needs only presumed consent (§ 7 (2) Nr. 1 UWG), so only an objection (a revoked phone
  consent) counts. Business and consumer follow the customer's professional flag.
owner: team:compliance
materialized: view
rule:
  id: GDPR-003
  area: gdpr
  severity: high
  entity: customer
  subject: customer
  legal_basis: § 7 Abs. 2 Nr. 1 und 2, Abs. 3 UWG; Art. 6 Abs. 1, Art. 7 Abs. 1, Art. 21 Abs. 2 und 3 DSGVO
  recommendation: >
    Kunden aus den Marketing-Verteilern nehmen, bis eine nachweisbare Einwilligung vorliegt bzw.
    der Widerspruch beachtet ist; Versandlisten künftig nach Kanal gegen Einwilligungen,
    Widersprüche und Bestandskundenstatus filtern.
--- */
with marketing as (
    select
        a.tenant_id,
        a.entity_id as customer_id,
        a.occurred_at,
        json_extract_string(a.after, '$.purpose') as purpose,
        json_extract_string(a.after, '$.campaign') as campaign
    from staging.audit_log as a
    where a.action = 'export'
        and a.entity_type = 'customer'
        and json_extract_string(a.after, '$.purpose') in ('marketing_email', 'marketing_phone')
),

judged as (
    select
        m.*,
        coalesce(c.is_professional, false) as is_business,
        exists (
            select 1 from staging.consents as k
            where k.customer_id = m.customer_id and k.purpose = m.purpose
                and k.granted_at <= m.occurred_at and k.in_force_until > m.occurred_at
        ) as consented,
        exists (
            select 1 from staging.consents as k
            where k.customer_id = m.customer_id and k.purpose = m.purpose and k.revoked_at <= m.occurred_at
        ) as objected,
        exists (
            select 1 from staging.sales_orders as o
            where o.customer_id = m.customer_id and o.went_ahead and o.ordered_at < m.occurred_at
        ) as existing_customer
    from marketing as m
    left join staging.all_customers as c on c.customer_id = m.customer_id
),

unpermitted as (
    select *
    from judged
    where not consented
        and (
            objected
            or (purpose = 'marketing_email' and not existing_customer)
            or (purpose = 'marketing_phone' and not is_business)
        )
)

select
    u.customer_id as entity_id,
    any_value(u.tenant_id) as tenant_id,
    u.customer_id as subject_id,
    json_object(
        'campaigns', list(distinct u.campaign order by u.campaign), 'channels', list(distinct u.purpose order by u.purpose),
        'last_sent_at', max(u.occurred_at), 'business', any_value(u.is_business),
        'objected', bool_or(u.objected), 'existing_customer', bool_or(u.existing_customer)
    ) as evidence
from unpermitted as u
group by u.customer_id
