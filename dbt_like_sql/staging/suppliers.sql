/* ---
description: Current suppliers (soft-deleted ones left out) with their LkSG risk assessment.
owner: team:purchasing
materialized: view
tests:
  - unique: supplier_id
  - not_null: [supplier_id, tenant_id, supplier_no, name, country_code]
  - accepted_values: {column: lksg_risk_level, values: [low, medium, high]}
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
