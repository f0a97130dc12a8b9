/* ---
description: ENNI-002 (high) a manure or digestate delivery lacks its N or P2O5 content (kg per tonne).
owner: team:compliance
materialized: view
tests:
  - unique: entity_id
--- */
select
    'ENNI-002' as rule_id,
    'enni' as area,
    'high' as severity,
    'manure_delivery' as entity_type,
    d.delivery_id as entity_id,
    d.tenant_id,
    'partner' as subject_type,
    d.partner_id as subject_id,
    json_object(
        'delivered_on', d.delivered_on, 'tonnes', d.tonnes, 'n_kg_per_t', d.n_kg_per_t,
        'p2o5_kg_per_t', d.p2o5_kg_per_t
    ) as evidence,
    '§ 3 Abs. 1 WDüngV' as legal_basis,
    'Nährstoffgehalte (N, P2O5 in kg/t) aus Analyse oder Richtwerten nachtragen.' as recommendation
from staging.manure_deliveries as d
where d.n_kg_per_t is null or d.p2o5_kg_per_t is null
