/* ---
description: >
  GDPR-003 (high): marketing went to a customer (an export for an e-mail or phone campaign in the
  audit trail) although no consent for that channel was in force at the time.
owner: team:compliance
materialized: view
rule:
  id: GDPR-003
  area: gdpr
  severity: high
  entity: customer
  subject: customer
  legal_basis: Art. 6 Abs. 1 lit. a, Art. 7 Abs. 1 DSGVO; § 7 UWG
  recommendation: >
    Kunden aus Marketing-Verteilern nehmen, bis eine nachweisbare Einwilligung vorliegt;
    Versandliste künftig gegen die Einwilligungen filtern.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
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

unconsented as (
    select m.*
    from marketing as m
    where not exists (
        select 1
        from staging.consents as c
        where c.customer_id = m.customer_id
            and c.purpose = m.purpose
            and c.granted_at <= m.occurred_at
            and c.in_force_until > m.occurred_at
    )
)

select
    u.customer_id as entity_id,
    any_value(u.tenant_id) as tenant_id,
    u.customer_id as subject_id,
    json_object(
        'campaigns', list(distinct u.campaign order by u.campaign), 'channels', list(distinct u.purpose),
        'last_sent_at', max(u.occurred_at)
    ) as evidence
from unconsented as u
group by u.customer_id
