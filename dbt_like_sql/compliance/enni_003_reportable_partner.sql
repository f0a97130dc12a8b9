/* ---
description: >
  ENNI-003 (info): the company handed over or took in more than 200 t of manure and digestate in a
  calendar year, which makes every delivery of that year reportable (and recordable under WDüngV).
  The threshold is the company's yearly total, not each partner's: summed per partner before, a
  tenant moving about 830 t a year stayed silent. The rule id keeps its old name.
owner: team:compliance
materialized: view
rule:
  id: ENNI-003
  area: enni
  severity: info
  entity: tenant_year
  subject: tenant
  legal_basis: WDüngV (Ausnahme bis 200 t Frischmasse je Kalenderjahr); Nds. Verordnung über Meldepflichten in Bezug auf Wirtschaftsdünger
  recommendation: >
    Meldepflicht besteht: jede Lieferung des Jahres binnen eines Monats im Meldeprogramm
    Wirtschaftsdünger melden und nach § 3 WDüngV aufzeichnen.
--- */
with yearly as (
    select
        tenant_id,
        year(delivered_on) as year,
        sum(tonnes) as tonnes,
        count(*) as deliveries,
        count(distinct partner_id) as partners
    from staging.manure_deliveries
    group by all
)

select
    y.tenant_id || '/' || y.year as entity_id,
    y.tenant_id,
    y.tenant_id as subject_id,
    json_object('year', y.year, 'tonnes', y.tonnes, 'deliveries', y.deliveries, 'partners', y.partners) as evidence
from yearly as y
cross join compliance.settings as s
where y.tonnes > s.manure_reportable_tonnes
