/* ---
description: TRACES NT import documents (CHED-P, CHED-PP, CHED-D, COI).
owner: team:compliance
materialized: view
tests:
  - unique: document_id
  - not_null: [document_id, po_id, kind, arrival_at, status]
  - accepted_values: {column: kind, values: [CHED-P, CHED-PP, CHED-D, COI]}
--- */
select document_id, tenant_id, po_id, kind, reference_no, submitted_at, arrival_at, status
from raw.import_documents
