/* ---
description: ENNI-002 (high) a manure or digestate delivery lacks its N or P2O5 content (kg per tonne).
owner: team:compliance
materialized: view
rule:
  id: ENNI-002
  area: enni
  severity: high
  entity: manure_delivery
  subject: partner
  legal_basis: § 3 Abs. 1 WDüngV
  recommendation: Nährstoffgehalte (N, P2O5 in kg/t) aus Analyse oder Richtwerten nachtragen.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
select
    d.delivery_id as entity_id,
    d.tenant_id,
    d.partner_id as subject_id,
    json_object(
        'delivered_on', d.delivered_on, 'tonnes', d.tonnes, 'n_kg_per_t', d.n_kg_per_t,
        'p2o5_kg_per_t', d.p2o5_kg_per_t
    ) as evidence
from staging.manure_deliveries as d
where d.n_kg_per_t is null or d.p2o5_kg_per_t is null
