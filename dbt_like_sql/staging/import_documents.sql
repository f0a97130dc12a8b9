/* ---
description: TRACES NT import documents (CHED-P, CHED-PP, CHED-D, COI).
owner: team:compliance
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: document_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [document_id, po_id, kind, arrival_at, status]
  # warn: an unknown value is a row-level problem: the row stays and the check lists it
  - accepted_values: {column: kind, values: [CHED-P, CHED-PP, CHED-D, COI], severity: warn}
--- */
select document_id, tenant_id, po_id, kind, reference_no, submitted_at, arrival_at, status
from raw.import_documents
