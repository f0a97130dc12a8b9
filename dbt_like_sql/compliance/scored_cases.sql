/* ---
description: >
  Every case as its area's scores see it, with the weight it adds: the case's state as of the
  evaluation the area stands for (compliance.area_freshness, from compliance.case_history), whether
  its latest event lies in the look-back window, whether its duty binds the tenant, and
  weight = severity weight (critical 25, high 10, medium 3, info 0.5) x status factor (open 1,
  acknowledged score_acknowledged_factor, resolved and dismissed 0) when it counts, else 0. One row
  per case (root cause), however many violations are behind it. compliance.area_scores and
  compliance.entity_scores add these weights up.
owner: team:compliance
materialized: view
columns:
  case_id: The case (compliance.cases).
  tenant_id: The tenant (company).
  area: Compliance area.
  rule_id: The rule.
  severity: critical, high, medium or info.
  subject_type: What the case is about (the product, the customer, the branch or staff member, ...).
  subject_id: Its key.
  status: open, acknowledged, resolved or dismissed, as of scored_at.
  open_occurrences: Violations behind the case that were open as of scored_at.
  last_event_at: The latest event behind its open violations (null for a standing state, always current).
  scored_at: The evaluation the area's scores stand for.
  in_window: Whether the case's latest event lies in the look-back window (a standing state always does).
  applies: Whether its duty binds the tenant (false for LkSG duties of a tenant the LkSG does not bind, and for areas the settings rule out).
  severity_weight: 25 critical, 10 high, 3 medium, 0.5 info.
  status_factor: 1 open, score_acknowledged_factor acknowledged, 0 resolved or dismissed.
  weight: severity_weight x status_factor when the case is in the window and applies, else 0.
tests:
  # error: one row per case, or a case counts twice
  - unique: case_id
  # error: guards the formula; a negative weight would raise a score with every finding
  - expression: {name: weight_not_negative, sql: "select * from {{ this }} where weight < 0 or weight is null"}
--- */
with s as (
    select as_of, score_lookback_days, score_acknowledged_factor from compliance.settings
),

states as (
    select h.*, f.scored_at
    from compliance.case_history as h
    join compliance.area_freshness as f on f.area = h.area
    where h.valid_from <= f.scored_at and (h.valid_to is null or h.valid_to > f.scored_at)
),

judged as (
    select
        c.*,
        c.last_event_at is null
        or cast(c.last_event_at at time zone 'Europe/Berlin' as date) >= s.as_of - s.score_lookback_days as in_window,
        not coalesce(
            e.excluded_by_settings or (c.area = 'lksg' and not e.lksg_bound and c.legal_basis ilike '%LkSG%'), false
        ) as applies,
        cast(case c.severity when 'critical' then 25 when 'high' then 10 when 'medium' then 3 else 0.5 end as double)
            as severity_weight,
        cast(case c.status when 'open' then 1 when 'acknowledged' then s.score_acknowledged_factor else 0 end as double)
            as status_factor
    from states as c
    cross join s
    left join compliance.exposure as e on e.tenant_id = c.tenant_id and e.area = c.area
)

select
    case_id,
    tenant_id,
    area,
    rule_id,
    severity,
    subject_type,
    subject_id,
    status,
    open_occurrences,
    last_event_at,
    scored_at,
    in_window,
    applies,
    severity_weight,
    status_factor,
    case when in_window and applies then severity_weight * status_factor else cast(0 as double) end as weight
from judged
