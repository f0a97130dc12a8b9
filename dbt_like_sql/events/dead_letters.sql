/* ---
description: >
  Outbox events the ERP's event bus could not deliver: still unpublished after the grace period
  (run config `unpublished_after_minutes`, default 15), or retried more often than the limit
  (`max_retries`, default 5), with their last error. Each is a change other services never heard of.
owner: team:platform
materialized: table
vars:
  unpublished_after_minutes: Minutes after which an unpublished outbox event counts as a dead letter (default 15).
  max_retries: Publish retries above which an outbox event counts as a dead letter (default 5).
columns:
  id: The outbox event.
  tenant_id: The tenant.
  event_type: What happened (customer.updated, payment.received, ...).
  aggregate_type: The kind of record it is about.
  aggregate_id: The record.
  created_at: When the event was written (ERP clock, UTC).
  published_at: When it was published (null when never).
  retry_count: Publish attempts that failed.
  last_error: The last publish error.
  reason: unpublished, too_many_retries, or both.
  minutes_waiting: Minutes since it was written.
tests:
  - unique: id
  - accepted_values: {column: reason, values: [unpublished, too_many_retries, unpublished_and_too_many_retries]}
  # warn: dead letters are what this model exists to show; the check makes them visible in the UI
  - expression: {name: no_dead_letters, sql: "select * from {{ this }}", severity: warn}
--- */
with settings as (
    select
        coalesce(try_cast(getvariable('unpublished_after_minutes') as integer), 15) as unpublished_after_minutes,
        coalesce(try_cast(getvariable('max_retries') as integer), 5) as max_retries,
        timezone('UTC', current_timestamp) as now_utc
),

judged as (
    select
        o.*,
        t.now_utc,
        o.published_at is null and o.created_at < t.now_utc - to_minutes(t.unpublished_after_minutes) as stale,
        o.retry_count > t.max_retries as over_retries
    from raw.outbox_events as o
    cross join settings as t
)

select
    id,
    tenant_id,
    event_type,
    aggregate_type,
    aggregate_id,
    created_at,
    published_at,
    retry_count,
    last_error,
    case
        when stale and over_retries then 'unpublished_and_too_many_retries'
        when stale then 'unpublished'
        else 'too_many_retries'
    end as reason,
    date_diff('minute', created_at, now_utc) as minutes_waiting
from judged
where stale or over_retries
