/* ---
description: >
  One compliance score per tenant: the mean of its seven area scores; status is the worst area's.
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
tests:
  - unique: tenant_id
  - accepted_values: {column: status, values: [compliant, warning, critical]}
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
    min_by(area, score_pct) as weakest_area
from compliance.area_scores
group by tenant_id
