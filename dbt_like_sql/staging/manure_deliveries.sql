/* ---
description: Manure and digestate deliveries (WDüngV) with their nutrient loads in kg.
owner: team:compliance
materialized: view
tests:
  - unique: delivery_id
  - not_null: [delivery_id, partner_id, delivered_on, tonnes, state_code]
  - accepted_values: {column: direction, values: [out, in]}
--- */
select
    delivery_id,
    tenant_id,
    direction,
    partner_id,
    delivered_on,
    tonnes,
    n_kg_per_t,
    p2o5_kg_per_t,
    tonnes * n_kg_per_t as n_kg,
    tonnes * p2o5_kg_per_t as p2o5_kg,
    state_code,
    report_ref,
    reported_on
from raw.manure_deliveries
