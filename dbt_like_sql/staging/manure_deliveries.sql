/* ---
description: >
  Manure and digestate deliveries (WDüngV) with their nutrient loads in kg and the nitrogen of
  animal origin per tonne (contract 1.1).
owner: team:compliance
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: delivery_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [delivery_id, partner_id, delivered_on, tonnes, state_code]
  # warn: an unknown value is a row-level problem: the row stays and the check lists it
  - accepted_values: {column: direction, values: [out, in], severity: warn}
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
    n_animal_kg_per_t,
    tonnes * n_kg_per_t as n_kg,
    tonnes * p2o5_kg_per_t as p2o5_kg,
    state_code,
    report_ref,
    reported_on
from raw.manure_deliveries
