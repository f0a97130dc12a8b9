/* ---
description: >
  GOBD-001 (critical): a posted invoice was changed after posting and the audit trail has no entry
  for that change.
owner: team:compliance
materialized: view
rule:
  id: GOBD-001
  area: gobd
  severity: critical
  entity: invoice
  subject: invoice
  legal_basis: § 146 Abs. 4 AO; GoBD Rz. 58, 107 bis 112
  recommendation: >
    Änderung aufklären, ursprünglichen Inhalt wiederherstellen bzw. per Storno und Neubuchung
    korrigieren; Protokollierung der Rechnungsänderungen im ERP prüfen.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
select
    i.invoice_id as entity_id,
    i.tenant_id,
    i.invoice_id as subject_id,
    json_object(
        'invoice_no', i.invoice_no, 'kind', i.kind, 'posted_at', i.posted_at, 'changed_at', i.updated_at,
        'gross_amount', i.gross_amount
    ) as evidence
from staging.invoices as i
cross join compliance.settings as s
where i.posted_at is not null
    and i.updated_at > i.posted_at + to_seconds(s.gobd_audit_tolerance_seconds)
    and not exists (
        select 1
        from staging.audit_log as a
        where a.entity_type = 'invoice'
            and a.entity_id = i.invoice_id
            and a.occurred_at between i.updated_at - to_seconds(s.gobd_audit_tolerance_seconds)
            and i.updated_at + to_seconds(s.gobd_audit_tolerance_seconds)
    )
