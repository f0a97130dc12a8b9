/* ---
description: >
  One compliance score per tenant: the mean of its seven area scores; status is the worst area's.
  A stale area counts with its last good score (one never scored is left out) and is listed in
  stale_areas, so the overall score is never silently older than it looks.
owner: team:compliance
materialized: table
columns:
  tenant_id: The tenant (company).
  score_pct: Mean of the area scores, 0 to 100 %.
  status: The worst area's status.
  critical: Open critical violations, all areas.
  high: Open high violations.
  medium: Open medium violations.
  info: Open info findings.
  weakest_area: The area with the lowest score.
  freshness: fresh when every area is, stale otherwise.
  stale_areas: The areas that are stale (see compliance.area_scores for since when and why).
tests:
  # error: these guard the aggregation; a failure makes every overall score suspect
  - unique: tenant_id
  - accepted_values: {column: status, values: [compliant, warning, critical]}
  - accepted_values: {column: freshness, values: [fresh, stale]}
--- */
select
    tenant_id,
    round(avg(score_pct), 1) as score_pct,
    case
        when bool_or(status = 'critical') then 'critical'
        when bool_or(status = 'warning') then 'warning'
        else 'compliant'
    end as status,
    sum(critical) as critical,
    sum(high) as high,
    sum(medium) as medium,
    sum(info) as info,
    min_by(area, score_pct) as weakest_area,
    case when bool_or(freshness = 'stale') then 'stale' else 'fresh' end as freshness,
    coalesce(list(area order by area) filter (where freshness = 'stale'), []::varchar []) as stale_areas
from compliance.area_scores
group by tenant_id
