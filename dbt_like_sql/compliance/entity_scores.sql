/* ---
description: >
  Risk per entity (the customer, supplier, article, staff member, partner, ... a violation is
  about) and area, from 0 to 1. Any open critical violation: risk 1. Otherwise
  risk = 0.99 * (1 - product over its open violations of (1 - weight)), with weight 0.5 for high,
  0.2 medium, 0.05 info: it grows with every further violation, never falls, and stays below 0.99,
  so one critical violation outweighs any number of lesser ones.
owner: team:compliance
materialized: table
columns:
  tenant_id: The tenant (company).
  entity_type: "What is scored (customer, supplier, article, staff, partner, ...)."
  entity_id: Its key.
  area: Compliance area.
  risk_score: Risk from 0 (none) to 1 (an open critical violation).
  open_violations: Open violations about it.
  critical: Open critical violations.
  high: Open high violations.
  medium: Open medium violations.
  info: Open info findings.
  rules: Rules it breaks.
tests:
  # error: these guard the formula and the grain; a failure makes every risk score suspect
  - unique: [tenant_id, entity_type, entity_id, area]
  - expression: {name: risk_between_0_and_1, sql: "select * from {{ this }} where risk_score < 0 or risk_score > 1"}
--- */
with weighted as (
    select
        tenant_id,
        subject_type,
        subject_id,
        area,
        severity,
        rule_id,
        case severity when 'critical' then 1.0 when 'high' then 0.5 when 'medium' then 0.2 else 0.05 end as weight
    from compliance.violations
)

select
    tenant_id,
    subject_type as entity_type,
    subject_id as entity_id,
    area,
    case
        when bool_or(severity = 'critical') then 1.0
        else round(0.99 * (1 - product(1 - weight)), 6)
    end as risk_score,
    count(*) as open_violations,
    count(*) filter (where severity = 'critical') as critical,
    count(*) filter (where severity = 'high') as high,
    count(*) filter (where severity = 'medium') as medium,
    count(*) filter (where severity = 'info') as info,
    list(distinct rule_id order by rule_id) as rules
from weighted
group by tenant_id, subject_type, subject_id, area
