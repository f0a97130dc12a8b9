/* ---
description: >
  Compliance score per tenant and area, in percent: 100 * exp(-penalty / 100) with a penalty of
  25 per open critical violation, 10 per high, 3 per medium and 0.5 per info. 100 % means nothing
  open. Status: critical when any critical violation is open, warning when any high or medium
  is, compliant otherwise.
owner: team:compliance
materialized: table
columns:
  tenant_id: The tenant (company).
  area: Compliance area.
  score_pct: Compliance score, 0 to 100 %.
  status: compliant, warning or critical.
  critical: Open critical violations.
  high: Open high violations.
  medium: Open medium violations.
  info: Open info findings.
tests:
  - unique: [tenant_id, area]
  - accepted_values: {column: status, values: [compliant, warning, critical]}
  - expression: {name: score_in_range, sql: "select * from {{ this }} where score_pct < 0 or score_pct > 100"}
--- */
with tenants as (
    select tenant_id from raw.customers
    union
    select tenant_id from raw.suppliers
),

areas as (
    select * from (values ('psm'), ('explosives'), ('enni'), ('traces'), ('lksg'), ('gdpr'), ('gobd')) as a(area)
),

counts as (
    select
        tenant_id,
        area,
        count(*) filter (where severity = 'critical') as critical,
        count(*) filter (where severity = 'high') as high,
        count(*) filter (where severity = 'medium') as medium,
        count(*) filter (where severity = 'info') as info
    from compliance.violations
    group by tenant_id, area
)

select
    t.tenant_id,
    a.area,
    round(
        100 * exp(-(25 * coalesce(c.critical, 0) + 10 * coalesce(c.high, 0) + 3 * coalesce(c.medium, 0)
            + 0.5 * coalesce(c.info, 0)) / 100.0),
        1
    ) as score_pct,
    case
        when coalesce(c.critical, 0) > 0 then 'critical'
        when coalesce(c.high, 0) + coalesce(c.medium, 0) > 0 then 'warning'
        else 'compliant'
    end as status,
    coalesce(c.critical, 0) as critical,
    coalesce(c.high, 0) as high,
    coalesce(c.medium, 0) as medium,
    coalesce(c.info, 0) as info
from tenants as t
cross join areas as a
left join counts as c on c.tenant_id = t.tenant_id and c.area = a.area
