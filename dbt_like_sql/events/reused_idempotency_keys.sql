/* ---
description: >
  Idempotency keys that more than one outbox event carries (`metadata.idempotency_key`): a client
  retried with the same key and the ERP wrote the event again, or two different operations share a
  key, so a consumer that honours the key silently drops one of them.
owner: team:platform
materialized: table
columns:
  idempotency_key: The key.
  events: Outbox events that carry it.
  event_types: Their types, comma-separated.
  tenants: Their tenants, comma-separated.
  first_created_at: The first of them.
  last_created_at: The last of them.
  processed_event_id: The event the consumer recorded as processed under the key (eventbus.idempotency_keys), if any.
tests:
  - unique: idempotency_key
  - expression: {name: reused_at_least_twice, sql: "select * from {{ this }} where events < 2"}
--- */
with keyed as (
    select
        id,
        event_type,
        tenant_id,
        created_at,
        json_extract_string(metadata, '$.idempotency_key') as idempotency_key
    from raw.outbox_events
    where metadata is not null
)

select
    k.idempotency_key,
    count(distinct k.id) as events,
    string_agg(distinct k.event_type, ', ' order by k.event_type) as event_types,
    string_agg(distinct k.tenant_id, ', ' order by k.tenant_id) as tenants,
    min(k.created_at) as first_created_at,
    max(k.created_at) as last_created_at,
    any_value(i.event_id) as processed_event_id
from keyed as k
left join raw.idempotency_keys as i on i.key = k.idempotency_key
where k.idempotency_key is not null and k.idempotency_key <> ''
group by k.idempotency_key
having count(distinct k.id) > 1
