/* ---
description: >
  ENNI-001 (high): a manure or digestate delivery was not reported to the Land's reporting
  programme within one month, or was reported late. In Lower Saxony the Niedersächsische Verordnung
  über Meldepflichten in Bezug auf Wirtschaftsdünger requires every delivery to be reported in the
  Meldeprogramm Wirtschaftsdünger within a month of the delivery (the rule id keeps its old name:
  ENNI is the farms' portal for their fertiliser returns, not this programme). The duty applies to
  a company that hands over or takes in more than 200 t a calendar year in sum (Düngebehörde
  Niedersachsen, "Informationen zur Meldepflicht"), so the threshold is the company's yearly total
  (the review's "no 200 t condition applies there" is wrong: the 200 t exemption is the reporting
  regulation's and WDüngV's, judged per company, not per partner as before). Only deliveries in a
  Land with such a programme are judged (setting manure_report_states). The late report is the
  trader's own: the root cause is the tenant.
owner: team:compliance
materialized: view
rule:
  id: ENNI-001
  area: enni
  severity: high
  entity: manure_delivery
  legal_basis: Nds. Verordnung über Meldepflichten in Bezug auf Wirtschaftsdünger (Meldeprogramm Wirtschaftsdünger); § 3 WDüngV
  recommendation: >
    Lieferung im Meldeprogramm Wirtschaftsdünger Niedersachsen nachmelden und die Meldungs-ID
    erfassen; Meldungen künftig binnen eines Monats nach der Lieferung abgeben.
--- */
with yearly as (
    select tenant_id, year(delivered_on) as year, sum(tonnes) as tonnes
    from staging.manure_deliveries
    group by all
),

due as (
    select
        d.*,
        cast(d.delivered_on + to_months(s.manure_report_months) as date) as report_due,
        s.as_of
    from staging.manure_deliveries as d
    cross join compliance.settings as s
    join yearly as y on y.tenant_id = d.tenant_id and y.year = year(d.delivered_on)
    where y.tonnes > s.manure_reportable_tonnes
        and list_contains(string_split(replace(s.manure_report_states, ' ', ''), ','), d.state_code)
)

select
    d.delivery_id as entity_id,
    d.tenant_id,
    'tenant' as subject_type,
    d.tenant_id as subject_id,
    json_object(
        'problem', case when d.reported_on > d.report_due then 'reported late' else 'not reported' end,
        'delivered_on', d.delivered_on, 'report_due', d.report_due, 'reported_on', d.reported_on,
        'days_late', coalesce(d.reported_on, d.as_of) - d.report_due, 'direction', d.direction,
        'partner_id', d.partner_id, 'tonnes', d.tonnes, 'state_code', d.state_code
    ) as evidence
from due as d
where (d.report_ref is null and d.reported_on is null and d.report_due < d.as_of)
    or d.reported_on > d.report_due
