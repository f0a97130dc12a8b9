/* ---
description: >
  One compliance score per tenant: the mean of the scores of the areas that apply to it, with the
  weakest area and its score beside it, so a mean never hides an area in trouble; status is the
  worst area's. Areas that do not apply (compliance.exposure) are left out and listed, never counted
  as 100 %. A stale area counts with its last good score (one never scored is left out) and is
  listed in stale_areas, so the overall score is never silently older than it looks.
owner: team:compliance
materialized: table
columns:
  tenant_id: The tenant (company).
  score_pct: Mean of the scores of the areas that apply, 0 to 100 %.
  status: The worst area's status.
  critical: Critical cases that count, all areas.
  high: High cases that count.
  medium: Medium cases that count.
  info: Info cases that count.
  weakest_area: The area with the lowest score.
  weakest_score_pct: Its score.
  areas_scored: How many areas the mean is over.
  not_applicable_areas: The areas that do not apply to the tenant (see compliance.exposure for why).
  freshness: fresh when every area is, stale otherwise.
  stale_areas: The areas that are stale (see compliance.area_scores for since when and why).
tests:
  # error: these guard the aggregation; a failure makes every overall score suspect
  - unique: tenant_id
  - accepted_values: {column: status, values: [compliant, warning, critical]}
  - accepted_values: {column: freshness, values: [fresh, stale]}
  - expression:
      name: weakest_area_is_not_above_the_mean
      sql: "select * from {{ this }} where weakest_score_pct > score_pct + 0.05"
--- */
with tenants as (
    select distinct tenant_id from compliance.exposure
),

scored as (
    select
        tenant_id,
        round(avg(score_pct), 1) as score_pct,
        case
            when bool_or(status = 'critical') then 'critical'
            when bool_or(status = 'warning') then 'warning'
            when bool_or(status = 'compliant') then 'compliant'
        end as status,
        sum(critical) as critical,
        sum(high) as high,
        sum(medium) as medium,
        sum(info) as info,
        arg_min(area, score_pct) as weakest_area,
        min(score_pct) as weakest_score_pct,
        count(score_pct) as areas_scored,
        case when bool_or(freshness = 'stale') then 'stale' else 'fresh' end as freshness,
        coalesce(list(area order by area) filter (where freshness = 'stale'), []::varchar []) as stale_areas
    from compliance.area_scores
    group by tenant_id
),

not_applicable as (
    select
        e.tenant_id,
        list(e.area order by e.area) as areas
    from compliance.exposure as e
    where not exists (select 1 from compliance.area_scores as a where a.tenant_id = e.tenant_id and a.area = e.area)
    group by e.tenant_id
)

select
    t.tenant_id,
    s.score_pct,
    s.status,
    coalesce(s.critical, 0) as critical,
    coalesce(s.high, 0) as high,
    coalesce(s.medium, 0) as medium,
    coalesce(s.info, 0) as info,
    s.weakest_area,
    s.weakest_score_pct,
    coalesce(s.areas_scored, 0) as areas_scored,
    coalesce(n.areas, []::varchar []) as not_applicable_areas,
    coalesce(s.freshness, 'fresh') as freshness,
    coalesce(s.stale_areas, []::varchar []) as stale_areas
from tenants as t
left join scored as s on s.tenant_id = t.tenant_id
left join not_applicable as n on n.tenant_id = t.tenant_id
