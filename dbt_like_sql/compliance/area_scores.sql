/* ---
description: >
  Compliance score per tenant and area, in percent: 100 * exp(-penalty / 100) with a penalty of
  25 per open critical violation, 10 per high, 3 per medium and 0.5 per info. 100 % means nothing
  open. Status: critical when any critical violation is open, warning when any high or medium
  is, compliant otherwise. Areas are scored independently: when a rule of an area failed in the
  latest evaluation (compliance.rule_runs), that area is stale and shows its last good score (the
  violations open after the last evaluation in which all its rules ran), since when it is stale
  and why; the other areas are scored as usual.
owner: team:compliance
materialized: table
columns:
  tenant_id: The tenant (company).
  area: Compliance area.
  score_pct: Compliance score, 0 to 100 %. When stale the last good score (null if there never was one).
  status: compliant, warning or critical (of the score shown).
  critical: Open critical violations.
  high: Open high violations.
  medium: Open medium violations.
  info: Open info findings.
  freshness: fresh (every rule of the area ran in the latest evaluation) or stale.
  scored_at: The evaluation the score stands for (the latest when fresh, the last good one when stale).
  stale_since: The first failed evaluation after the last good one (null when fresh).
  stale_reason: The rules of the area that failed in the latest evaluation, with their errors (null when fresh).
tests:
  # error: these guard the formula and the grain; a failure makes every score suspect
  - unique: [tenant_id, area]
  - accepted_values: {column: status, values: [compliant, warning, critical]}
  - accepted_values: {column: freshness, values: [fresh, stale]}
  - expression: {name: score_in_range, sql: "select * from {{ this }} where score_pct < 0 or score_pct > 100"}
  - expression:
      name: stale_areas_say_since_when_and_why
      sql: >
        select * from {{ this }}
        where (freshness = 'stale') <> (stale_reason is not null and stale_since is not null)
--- */
with tenants as (
    select tenant_id from raw.customers
    union
    select tenant_id from raw.suppliers
),

areas as (
    select * from (values ('psm'), ('explosives'), ('enni'), ('traces'), ('lksg'), ('gdpr'), ('gobd')) as a(area)
),

evaluations as (
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
        max(e.evaluated_at) filter (where e.ok) as last_good_at
    from areas as a
    cross join latest as l
    left join evaluations as now_ on now_.area = a.area and now_.evaluated_at = l.evaluated_at
    left join evaluations as e on e.area = a.area
    group by a.area, now_.ok, now_.failures
),

stands_for as (
    select
        j.area,
        j.fresh,
        case when j.fresh then l.evaluated_at else j.last_good_at end as scored_at,
        case when not j.fresh then j.failures end as stale_reason,
        case
            when not j.fresh then min(e.evaluated_at) filter (
                where not e.ok and e.evaluated_at > coalesce(j.last_good_at, timestamptz '-infinity')
            )
        end as stale_since
    from judged as j
    cross join latest as l
    left join evaluations as e on e.area = j.area
    group by j.area, j.fresh, j.failures, j.last_good_at, l.evaluated_at
),

counts as (
    -- the violations open right after the evaluation each area's score stands for
    select
        h.tenant_id,
        h.area,
        count(*) filter (where h.severity = 'critical') as critical,
        count(*) filter (where h.severity = 'high') as high,
        count(*) filter (where h.severity = 'medium') as medium,
        count(*) filter (where h.severity = 'info') as info
    from compliance.violation_history as h
    join stands_for as s on s.area = h.area
    where h.first_detected_at <= s.scored_at and (h.resolved_at is null or h.resolved_at > s.scored_at)
    group by h.tenant_id, h.area
),

scored as (
    select
        t.tenant_id,
        s.area,
        s.fresh,
        s.scored_at,
        s.stale_since,
        s.stale_reason,
        coalesce(c.critical, 0) as critical,
        coalesce(c.high, 0) as high,
        coalesce(c.medium, 0) as medium,
        coalesce(c.info, 0) as info
    from tenants as t
    cross join stands_for as s
    left join counts as c on c.tenant_id = t.tenant_id and c.area = s.area
)

select
    tenant_id,
    area,
    case
        when scored_at is not null
            then round(100 * exp(-(25 * critical + 10 * high + 3 * medium + 0.5 * info) / 100.0), 1)
    end as score_pct,
    case
        when scored_at is null then null
        when critical > 0 then 'critical'
        when high + medium > 0 then 'warning'
        else 'compliant'
    end as status,
    case when scored_at is not null then critical end as critical,
    case when scored_at is not null then high end as high,
    case when scored_at is not null then medium end as medium,
    case when scored_at is not null then info end as info,
    case when fresh then 'fresh' else 'stale' end as freshness,
    scored_at,
    stale_since,
    stale_reason
from scored
