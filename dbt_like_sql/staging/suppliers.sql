/* ---
description: Current suppliers (soft-deleted ones left out) with their LkSG risk assessment.
owner: team:purchasing
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: supplier_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [supplier_id, tenant_id, supplier_no, name, country_code]
  # warn: an unknown value is a row-level problem: the row stays and the check lists it
  - accepted_values: {column: lksg_risk_level, values: [low, medium, high], severity: warn}
--- */
select
    supplier_id,
    tenant_id,
    supplier_no,
    name,
    country_code,
    iban,
    bic,
    lksg_risk_level,
    lksg_assessed_on,
    code_of_conduct_signed
from raw.suppliers
where deleted_at is null
