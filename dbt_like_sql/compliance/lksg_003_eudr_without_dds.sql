/* ---
description: >
  LKSG-003 (high): an EUDR commodity (soya, palm, cattle, cocoa, coffee, rubber, wood) was
  purchased on or after the EUDR application date without a due-diligence statement reference.
owner: team:compliance
materialized: view
rule:
  id: LKSG-003
  area: lksg
  severity: high
  entity: purchase_order_line
  subject: supplier
  legal_basis: Art. 4, 33 VO (EU) 2023/1115 i. d. F. VO (EU) 2025/2650
  recommendation: >
    Referenznummer der Sorgfaltserklärung (DDS) beim Lieferanten anfordern und erfassen; ohne DDS
    nicht in Verkehr bringen.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
select
    pl.po_line_id as entity_id,
    pl.tenant_id,
    pl.supplier_id as subject_id,
    json_object(
        'po_id', pl.po_id, 'ordered_at', pl.ordered_at, 'article_no', a.article_no, 'article', a.name,
        'commodity', a.eudr_commodity, 'origin', pl.origin_country_code
    ) as evidence
from staging.purchase_order_lines as pl
join staging.all_articles as a on a.article_id = pl.article_id
cross join compliance.settings as s
where a.eudr_commodity is not null
    and pl.dds_reference is null
    and pl.po_status <> 'cancelled'
    and pl.ordered_at >= s.eudr_application_date
