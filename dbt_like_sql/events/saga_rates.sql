/* ---
description: >
  Health of each saga type: how many ran, how many completed, failed or had to compensate, and how
  long a completed one takes. A rising failure or compensation rate points at the step that breaks
  (see events.saga_step_durations).
owner: team:platform
materialized: table
columns:
  saga_type: What the sagas do.
  sagas: Sagas of this type.
  running: Still STARTED.
  compensating: Now COMPENSATING.
  completed: COMPLETED.
  failed: FAILED.
  compensated: Sagas with at least one compensated step.
  failure_rate: Failed among the finished (completed or failed), 0..1.
  compensation_rate: Sagas with a compensation among all, 0..1.
  avg_seconds_to_complete: Mean seconds from start to completion of the completed ones.
  p95_seconds_to_complete: 95th percentile of the same.
tests:
  - unique: saga_type
  - not_null: [saga_type, sagas]
  - expression:
      name: rates_in_range
      sql: >
        select * from {{ this }} where failure_rate not between 0 and 1 or compensation_rate not between 0 and 1
--- */
with compensated as (
    select distinct saga_id
    from raw.saga_steps
    where status = 'COMPENSATED' or compensated_at is not null
),

sagas as (
    select
        s.*,
        c.saga_id is not null as was_compensated,
        case
            when s.status = 'COMPLETED' and s.completed_at is not null
                then date_diff('millisecond', s.started_at, s.completed_at) / 1000.0
        end as seconds_to_complete
    from raw.saga_state as s
    left join compensated as c on c.saga_id = s.saga_id
)

select
    saga_type,
    count(*) as sagas,
    count(*) filter (where status = 'STARTED') as running,
    count(*) filter (where status = 'COMPENSATING') as compensating,
    count(*) filter (where status = 'COMPLETED') as completed,
    count(*) filter (where status = 'FAILED') as failed,
    count(*) filter (where was_compensated) as compensated,
    coalesce(
        count(*) filter (where status = 'FAILED')
        / nullif(count(*) filter (where status in ('COMPLETED', 'FAILED')), 0),
        0
    ) as failure_rate,
    count(*) filter (where was_compensated) / count(*) as compensation_rate,
    round(avg(seconds_to_complete), 3) as avg_seconds_to_complete,
    round(quantile_cont(seconds_to_complete, 0.95), 3) as p95_seconds_to_complete
from sagas
group by saga_type
