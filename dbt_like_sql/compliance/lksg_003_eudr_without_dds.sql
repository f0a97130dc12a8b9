/* ---
description: >
  LKSG-003 (high): an EUDR commodity (soya, palm, cattle, cocoa, coffee, rubber, wood) was
  purchased on or after the EUDR application date without a due-diligence statement reference.
owner: team:compliance
materialized: view
tests:
  - unique: entity_id
--- */
select
    'LKSG-003' as rule_id,
    'lksg' as area,
    'high' as severity,
    'purchase_order_line' as entity_type,
    pl.po_line_id as entity_id,
    pl.tenant_id,
    'supplier' as subject_type,
    pl.supplier_id as subject_id,
    json_object(
        'po_id', pl.po_id, 'ordered_at', pl.ordered_at, 'article_no', a.article_no, 'article', a.name,
        'commodity', a.eudr_commodity, 'origin', pl.origin_country_code
    ) as evidence,
    'Art. 4, 33 VO (EU) 2023/1115 i. d. F. VO (EU) 2025/2650' as legal_basis,
    'Referenznummer der Sorgfaltserklärung (DDS) beim Lieferanten anfordern und erfassen; ohne DDS '
    || 'nicht in Verkehr bringen.' as recommendation
from staging.purchase_order_lines as pl
join staging.all_articles as a on a.article_id = pl.article_id
cross join compliance.settings as s
where a.eudr_commodity is not null
    and pl.dds_reference is null
    and pl.po_status <> 'cancelled'
    and pl.ordered_at >= s.eudr_application_date
