/* ---
description: >
  ENNI-002 (high): the record of a manure or digestate delivery lacks its N or P2O5 content (kg
  per tonne) or the nitrogen of animal origin (`n_animal_kg_per_t`, contract 1.1; not judged while
  the source lacks that column) once its recording window has passed: one month after the delivery
  (WDüngV § 3 (1); the two months of § 3 (1) last sentence are for a recipient who spreads it on
  its own farm, which a trader is not). A delivery still inside its window is no finding (it was
  flagged before). Keeping the record is the trader's own duty: the root cause is the tenant.
owner: team:compliance
materialized: view
rule:
  id: ENNI-002
  area: enni
  severity: high
  entity: manure_delivery
  legal_basis: § 3 Abs. 1 Satz 1 Nr. 4 WDüngV
  recommendation: >
    Nährstoffgehalte (N, P2O5 in kg/t) und die Stickstoffmenge aus Wirtschaftsdünger tierischer
    Herkunft aus Analyse oder Richtwerten nachtragen; Aufzeichnung drei Jahre aufbewahren.
--- */
with judged as (
    select
        d.*,
        cast(d.delivered_on + to_months(s.manure_report_months) as date) as record_due,
        not exists (
            select 1 from ops.absent_columns as x
            where x.table_name = 'manure_deliveries' and x.column_name = 'n_animal_kg_per_t'
        ) as animal_n_recorded,
        s.as_of
    from staging.manure_deliveries as d
    cross join compliance.settings as s
)

select
    d.delivery_id as entity_id,
    d.tenant_id,
    'tenant' as subject_type,
    d.tenant_id as subject_id,
    json_object(
        'delivered_on', d.delivered_on, 'record_due', d.record_due, 'tonnes', d.tonnes,
        'n_kg_per_t', d.n_kg_per_t, 'p2o5_kg_per_t', d.p2o5_kg_per_t, 'n_animal_kg_per_t', d.n_animal_kg_per_t,
        'missing', list_filter(
            [
                case when d.n_kg_per_t is null then 'n_kg_per_t' end,
                case when d.p2o5_kg_per_t is null then 'p2o5_kg_per_t' end,
                case when d.animal_n_recorded and d.n_animal_kg_per_t is null then 'n_animal_kg_per_t' end
            ],
            lambda x: x is not null
        )
    ) as evidence
from judged as d
where d.record_due < d.as_of
    and (
        d.n_kg_per_t is null
        or d.p2o5_kg_per_t is null
        or (d.animal_n_recorded and d.n_animal_kg_per_t is null)
    )
