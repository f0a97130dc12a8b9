/* ---
description: >
  Sales staff, with whether they hold a PSM Sachkunde of their own and when their next recognised
  training is due (contract 1.1).
owner: team:compliance
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: staff_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [staff_id, tenant_id, name]
--- */
select
    staff_id,
    tenant_id,
    name,
    psm_sachkunde_no,
    psm_sachkunde_no is not null as has_sachkunde,
    psm_training_due_on,
    active
from raw.staff
