/* ---
description: >
  TRACES-001 (high): an import from outside the EU of an article that needs a CHED (by its import
  control) or a certificate of inspection (organic) has no such document in TRACES.
owner: team:compliance
materialized: view
tests:
  - unique: entity_id
--- */
with needed as (
    select
        pl.*,
        a.article_no,
        a.name as article_name,
        case when a.is_organic then 'COI' else a.import_control end as document_kind
    from staging.purchase_order_lines as pl
    join staging.articles as a on a.article_id = pl.article_id
    where pl.is_import and pl.po_status <> 'cancelled' and (a.is_organic or a.import_control is not null)
)

select
    'TRACES-001' as rule_id,
    'traces' as area,
    'high' as severity,
    'purchase_order_line' as entity_type,
    n.po_line_id as entity_id,
    n.tenant_id,
    'supplier' as subject_type,
    n.supplier_id as subject_id,
    json_object(
        'po_id', n.po_id, 'article_no', n.article_no, 'article', n.article_name, 'origin', n.origin_country_code,
        'document_needed', n.document_kind, 'expected_on', n.expected_on
    ) as evidence,
    'Art. 47, 56 VO (EU) 2017/625; Art. 45 VO (EU) 2018/848, VO (EU) 2021/2306' as legal_basis,
    'Vor Ankunft das fehlende Dokument (CHED bzw. COI) in TRACES NT anlegen lassen; Ware ohne Dokument '
    || 'nicht annehmen bzw. sperren.' as recommendation
from needed as n
where not exists (
    select 1 from staging.import_documents as d where d.po_id = n.po_id and d.kind = n.document_kind
)
