/* ---
description: Sales staff, with whether they hold a PSM Sachkunde of their own.
owner: team:compliance
materialized: view
tests:
  - unique: staff_id
  - not_null: [staff_id, tenant_id, name]
--- */
select
    staff_id,
    tenant_id,
    name,
    psm_sachkunde_no,
    psm_sachkunde_no is not null as has_sachkunde,
    active
from raw.staff
