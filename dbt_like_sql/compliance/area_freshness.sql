/* ---
description: >
  Which evaluation each compliance area's scores stand for. Areas are judged independently: when
  every rule of an area ran in the latest evaluation (compliance.rule_runs) the area is fresh and
  stands for that evaluation; when one of its rules failed, the area is stale and stands for the
  last evaluation in which all its rules ran (null if there never was one), with since when it is
  stale and why. The scores read the case states as of that evaluation (compliance.case_history).
owner: team:compliance
materialized: table
columns:
  area: Compliance area (every area with a rule in compliance.rule_runs).
  freshness: fresh (every rule of the area ran in the latest evaluation) or stale.
  scored_at: The evaluation the area's scores stand for (the latest when fresh, the last good one when stale).
  stale_since: The first failed evaluation after the last good one (null when fresh).
  stale_reason: The rules of the area that failed in the latest evaluation, with their errors (null when fresh).
tests:
  # error: the scores join on it; a second row would double an area
  - unique: area
  - accepted_values: {column: freshness, values: [fresh, stale]}
  - expression:
      name: stale_areas_say_since_when_and_why
      sql: >
        select * from {{ this }}
        where (freshness = 'stale') <> (stale_reason is not null and stale_since is not null)
--- */
with evaluations as (
    select
        evaluated_at,
        area,
        bool_and(status = 'ok') as ok,
        string_agg(
            case when status <> 'ok' then rule_id || ': ' || coalesce(error, status) end, '; ' order by rule_id
        ) as failures
    from compliance.rule_runs
    group by evaluated_at, area
),

latest as (
    select max(evaluated_at) as evaluated_at from compliance.rule_runs
),

judged as (
    select
        a.area,
        coalesce(now_.ok, true) as fresh,
        now_.failures,
        max(a.evaluated_at) filter (where a.ok) as last_good_at
    from evaluations as a
    cross join latest as l
    left join evaluations as now_ on now_.area = a.area and now_.evaluated_at = l.evaluated_at
    group by a.area, now_.ok, now_.failures
)

select
    j.area,
    case when j.fresh then 'fresh' else 'stale' end as freshness,
    case when j.fresh then l.evaluated_at else j.last_good_at end as scored_at,
    case
        when not j.fresh then min(e.evaluated_at) filter (
            where not e.ok and e.evaluated_at > coalesce(j.last_good_at, timestamptz '-infinity')
        )
    end as stale_since,
    case when not j.fresh then j.failures end as stale_reason
from judged as j
cross join latest as l
left join evaluations as e on e.area = j.area
group by j.area, j.fresh, j.failures, j.last_good_at, l.evaluated_at
