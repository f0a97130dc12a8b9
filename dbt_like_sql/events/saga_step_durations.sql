/* ---
description: >
  Each saga step by saga type: how often it ran, failed or was compensated, and how long it takes
  (seconds from start to completion of the steps that completed).
owner: team:platform
materialized: table
columns:
  saga_type: The saga type.
  step_name: The step.
  execution_order: Its position in the saga (the most common one).
  runs: Steps recorded.
  succeeded: SUCCESS.
  failed: FAILED.
  compensated: COMPENSATED.
  pending: PENDING.
  avg_seconds: Mean seconds from start to completion.
  p50_seconds: Median of the same.
  p95_seconds: 95th percentile of the same.
  max_seconds: Longest.
  last_error: The error of the latest failed run of the step.
tests:
  - unique: [saga_type, step_name]
  - expression:
      name: durations_not_negative
      sql: "select * from {{ this }} where avg_seconds < 0 or max_seconds < 0"
      severity: warn
--- */
with steps as (
    select
        coalesce(s.saga_type, '(unknown saga)') as saga_type,
        p.*,
        date_diff('millisecond', p.started_at, p.completed_at) / 1000.0 as seconds
    from raw.saga_steps as p
    left join raw.saga_state as s on s.saga_id = p.saga_id
)

select
    saga_type,
    step_name,
    mode(execution_order) as execution_order,
    count(*) as runs,
    count(*) filter (where status = 'SUCCESS') as succeeded,
    count(*) filter (where status = 'FAILED') as failed,
    count(*) filter (where status = 'COMPENSATED') as compensated,
    count(*) filter (where status = 'PENDING') as pending,
    round(avg(seconds), 3) as avg_seconds,
    round(quantile_cont(seconds, 0.5), 3) as p50_seconds,
    round(quantile_cont(seconds, 0.95), 3) as p95_seconds,
    round(max(seconds), 3) as max_seconds,
    arg_max(error, coalesce(started_at, completed_at)) filter (where status = 'FAILED') as last_error
from steps
group by saga_type, step_name
