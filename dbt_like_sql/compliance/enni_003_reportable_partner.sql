/* ---
description: >
  ENNI-003 (info): a partner handed over or took in more than 200 t of manure in a calendar year,
  which makes every delivery with them reportable.
owner: team:compliance
materialized: view
rule:
  id: ENNI-003
  area: enni
  severity: info
  entity: manure_partner_year
  subject: partner
  legal_basis: § 3, § 4 WDüngV (Schwelle 200 t/Jahr)
  recommendation: >
    Partner ist meldepflichtig: jede Lieferung binnen eines Monats melden.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
with yearly as (
    select tenant_id, partner_id, year(delivered_on) as year, sum(tonnes) as tonnes, count(*) as deliveries
    from staging.manure_deliveries
    group by all
)

select
    y.partner_id || '/' || y.year as entity_id,
    y.tenant_id,
    y.partner_id as subject_id,
    json_object('year', y.year, 'tonnes', y.tonnes, 'deliveries', y.deliveries) as evidence
from yearly as y
cross join compliance.settings as s
where y.tonnes > s.manure_reportable_tonnes
