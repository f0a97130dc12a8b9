/* ---
description: >
  Risk per entity and area from 0 to 1, where the entity is the subject of its cases, the root
  cause a rule judges: the customer, the supplier, the product, and for the trader's own failures
  (a sale without a qualified seller, a late report to the authority) the branch or staff member,
  not the customer. Counted are the cases compliance.scored_cases counts (open or acknowledged,
  latest event in the look-back window, duty binding the tenant), one per root cause however many
  violations are behind it. An open critical case: risk 1. Otherwise
  risk = 0.99 * (1 - product over its cases of (1 - weight x status factor)), with weight 1 critical,
  0.5 high, 0.2 medium, 0.05 info and status factor 1 open, score_acknowledged_factor acknowledged:
  it grows with every further case, falls when an officer acknowledges one, and stays below 0.99
  without an undecided critical case.
owner: team:compliance
materialized: table
columns:
  tenant_id: The tenant (company).
  entity_type: "What is scored: the cases' subject type (customer, supplier, article, staff, warehouse, ...)."
  entity_id: Its key.
  area: Compliance area.
  risk_score: Risk from 0 (none) to 1 (an open critical case).
  cases: Cases about it that count.
  open_violations: Open violations behind those cases.
  critical: Critical cases.
  high: High cases.
  medium: Medium cases.
  info: Info cases.
  acknowledged_cases: Of those, the acknowledged ones.
  rules: Rules of its cases.
tests:
  # error: these guard the formula and the grain; a failure makes every risk score suspect
  - unique: [tenant_id, entity_type, entity_id, area]
  - expression: {name: risk_between_0_and_1, sql: "select * from {{ this }} where risk_score < 0 or risk_score > 1"}
--- */
with weighted as (
    select
        *,
        cast(case severity when 'critical' then 1 when 'high' then 0.5 when 'medium' then 0.2 else 0.05 end as double)
        * status_factor as entity_weight
    from compliance.scored_cases
    where weight > 0
)

select
    tenant_id,
    subject_type as entity_type,
    subject_id as entity_id,
    area,
    case
        when bool_or(severity = 'critical' and status = 'open') then cast(1 as double)
        else round(0.99 * (1 - product(1 - entity_weight)), 6)
    end as risk_score,
    count(*) as cases,
    sum(open_occurrences) as open_violations,
    count(*) filter (where severity = 'critical') as critical,
    count(*) filter (where severity = 'high') as high,
    count(*) filter (where severity = 'medium') as medium,
    count(*) filter (where severity = 'info') as info,
    count(*) filter (where status = 'acknowledged') as acknowledged_cases,
    list(distinct rule_id order by rule_id) as rules
from weighted
group by tenant_id, subject_type, subject_id, area
