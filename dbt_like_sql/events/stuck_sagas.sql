/* ---
description: >
  Sagas of the ERP's event bus that hang: still STARTED or COMPENSATING and not updated for longer
  than the threshold (run config `stuck_after_minutes`, default 30). Each row is a distributed
  transaction that neither finished nor rolled back: an order half booked, a payment half posted.
owner: team:platform
materialized: table
vars:
  stuck_after_minutes: Minutes without an update after which a STARTED or COMPENSATING saga counts as stuck (default 30).
columns:
  saga_id: The saga.
  saga_type: What it does (order placement, payment posting, ...).
  status: STARTED or COMPENSATING.
  current_step: The step it hangs in.
  started_at: When it began.
  updated_at: Its last update.
  minutes_stuck: Minutes since its last update.
  last_step_error: The error of its latest failed step, if any.
  error: The saga's own error text, if any.
tests:
  - unique: saga_id
  # warn: stuck sagas are what this model exists to show; the check makes them visible in the UI
  - expression: {name: no_stuck_sagas, sql: "select * from {{ this }}", severity: warn}
--- */
with settings as (
    select coalesce(try_cast(getvariable('stuck_after_minutes') as integer), 30) as stuck_after_minutes
),

last_failed_step as (
    select
        saga_id,
        error
    from raw.saga_steps
    where status = 'FAILED'
    qualify row_number() over (partition by saga_id order by execution_order desc, started_at desc nulls last) = 1
)

select
    s.saga_id,
    s.saga_type,
    s.status,
    s.current_step,
    s.started_at,
    s.updated_at,
    date_diff('minute', s.updated_at, current_timestamp) as minutes_stuck,
    f.error as last_step_error,
    s.error
from raw.saga_state as s
cross join settings as t
left join last_failed_step as f on f.saga_id = s.saga_id
where
    s.status in ('STARTED', 'COMPENSATING')
    and s.updated_at < current_timestamp - to_minutes(t.stuck_after_minutes)
