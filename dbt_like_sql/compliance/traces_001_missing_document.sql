/* ---
description: >
  TRACES-001 (high): an import from outside the EU of an article that needs a CHED (by its import
  control) or a certificate of inspection (organic), or both, lacks one of them in TRACES.
owner: team:compliance
materialized: view
rule:
  id: TRACES-001
  area: traces
  severity: high
  entity: purchase_order_line
  subject: supplier
  legal_basis: Art. 47, 56 VO (EU) 2017/625; Art. 45 VO (EU) 2018/848, VO (EU) 2021/2306
  recommendation: >
    Vor Ankunft das fehlende Dokument (CHED bzw. COI) in TRACES NT anlegen lassen; Ware ohne
    Dokument nicht annehmen bzw. sperren.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
with needed as (
    -- every document a line needs: a COI for organic goods, the CHED its import control names
    select pl.*, a.article_no, a.name as article_name, kind.document_kind
    from staging.purchase_order_lines as pl
    join staging.all_articles as a on a.article_id = pl.article_id
    cross join lateral (
        select 'COI' as document_kind where a.is_organic
        union all
        select a.import_control where a.import_control is not null
    ) as kind
    where pl.is_import and pl.po_status <> 'cancelled'
),

missing as (
    select n.*
    from needed as n
    where not exists (
        select 1 from staging.import_documents as d where d.po_id = n.po_id and d.kind = n.document_kind
    )
)

select
    m.po_line_id as entity_id,
    any_value(m.tenant_id) as tenant_id,
    any_value(m.supplier_id) as subject_id,
    json_object(
        'po_id', any_value(m.po_id), 'article_no', any_value(m.article_no), 'article', any_value(m.article_name),
        'origin', any_value(m.origin_country_code), 'documents_missing', list(m.document_kind order by m.document_kind),
        'expected_on', any_value(m.expected_on)
    ) as evidence
from missing as m
group by m.po_line_id
