/* ---
description: >
  Compliance score per tenant and area, in percent, per root cause and normalised by exposure:
  score = 100 * exp(-penalty * sqrt(score_reference_exposure / exposure) / 100), where penalty is
  the sum of the weights of the area's cases (compliance.scored_cases: 25 critical, 10 high, 3
  medium, 0.5 info; x1 open, x score_acknowledged_factor acknowledged, x0 resolved or dismissed;
  only cases whose latest event lies in the look-back window) and exposure the area's eligible
  transactions and entities (compliance.exposure; at least 1, and at least the number of counted
  cases). More exposure at the same cases is a better score; a case weighs the same however many
  violations are behind it. Status: critical when an open (undecided) critical case counts or the
  score is below 50; warning when any critical or high case counts or the score is below 90;
  compliant otherwise. Areas that do not apply to the tenant (no exposure and no counted case, or
  ruled out by the setting not_applicable) have no row. Areas are scored independently: a stale
  area (one of its rules failed in the latest evaluation) shows the score of the last evaluation in
  which all its rules ran (compliance.area_freshness), since when it is stale and why.
owner: team:compliance
materialized: table
columns:
  tenant_id: The tenant (company).
  area: Compliance area.
  score_pct: Compliance score, 0 to 100 %. When stale the last good score (null if there never was one).
  status: compliant, warning or critical (of the score shown).
  critical: Critical cases that count (open or acknowledged, in the window).
  high: High cases that count.
  medium: Medium cases that count.
  info: Info cases that count.
  open_cases: Of those, the cases no officer has decided on yet.
  acknowledged_cases: Of those, the acknowledged ones (they weigh score_acknowledged_factor).
  penalty: Sum of the counted cases' weights.
  exposure: The divisor (compliance.exposure.exposure, at least 1 and at least the counted cases).
  normalised_penalty: penalty * sqrt(score_reference_exposure / exposure).
  measured_as: What the exposure counts.
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
  # (that a stale area says since when and why is tested on compliance.area_freshness, where it comes from)
--- */
with s as (
    select score_reference_exposure from compliance.settings
),

counted as (
    select
        tenant_id,
        area,
        sum(weight) as penalty,
        count(*) filter (where severity = 'critical') as critical,
        count(*) filter (where severity = 'high') as high,
        count(*) filter (where severity = 'medium') as medium,
        count(*) filter (where severity = 'info') as info,
        count(*) filter (where status = 'open') as open_cases,
        count(*) filter (where status = 'acknowledged') as acknowledged_cases,
        count(*) filter (where status = 'open' and severity = 'critical') as open_critical
    from compliance.scored_cases
    where weight > 0
    group by tenant_id, area
),

scored as (
    select
        e.tenant_id,
        e.area,
        e.measured_as,
        f.freshness,
        f.scored_at,
        f.stale_since,
        f.stale_reason,
        coalesce(c.penalty, 0) as penalty,
        coalesce(c.critical, 0) as critical,
        coalesce(c.high, 0) as high,
        coalesce(c.medium, 0) as medium,
        coalesce(c.info, 0) as info,
        coalesce(c.open_cases, 0) as open_cases,
        coalesce(c.acknowledged_cases, 0) as acknowledged_cases,
        coalesce(c.open_critical, 0) as open_critical,
        greatest(e.exposure, coalesce(c.critical + c.high + c.medium + c.info, 0), 1) as exposure
    from compliance.exposure as e
    join compliance.area_freshness as f on f.area = e.area
    left join counted as c on c.tenant_id = e.tenant_id and c.area = e.area
    where e.applies or c.tenant_id is not null  -- a counted case never lies in an area the settings rule out
),

normalised as (
    select
        x.*,
        x.penalty * sqrt(s.score_reference_exposure / x.exposure) as normalised_penalty
    from scored as x
    cross join s
)

select
    tenant_id,
    area,
    case when scored_at is not null then round(100 * exp(-normalised_penalty / 100.0), 1) end as score_pct,
    case
        when scored_at is null then null
        when open_critical > 0 or 100 * exp(-normalised_penalty / 100.0) < 50 then 'critical'
        when critical + high > 0 or 100 * exp(-normalised_penalty / 100.0) < 90 then 'warning'
        else 'compliant'
    end as status,
    case when scored_at is not null then critical end as critical,
    case when scored_at is not null then high end as high,
    case when scored_at is not null then medium end as medium,
    case when scored_at is not null then info end as info,
    case when scored_at is not null then open_cases end as open_cases,
    case when scored_at is not null then acknowledged_cases end as acknowledged_cases,
    case when scored_at is not null then round(penalty, 3) end as penalty,
    exposure,
    case when scored_at is not null then round(normalised_penalty, 3) end as normalised_penalty,
    measured_as,
    freshness,
    scored_at,
    stale_since,
    stale_reason
from normalised
