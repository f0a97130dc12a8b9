/* ---
description: >
  TRACES-001 (high): a consignment shipped from outside the EU (the dispatch country,
  `dispatch_country_code` of contract 1.1, or the origin where none is recorded; the origin alone
  made an EU re-sale of non-EU goods an import) that has arrived or is due lacks a document in
  TRACES NT: the CHED its article's import control names, or the certificate of inspection (COI) of
  organic goods. Orders not yet due are not judged. Whether a CHED-D is needed depends on the
  article and origin listed in VO (EU) 2019/1793: the article's import control must say so. A COI
  that exists but is not endorsed is TRACES-003's business once goods from the lot are sold.
owner: team:compliance
materialized: view
rule:
  id: TRACES-001
  area: traces
  severity: high
  entity: purchase_order_line
  subject: supplier
  legal_basis: Art. 47, 56 VO (EU) 2017/625; VO (EU) 2019/1793; Art. 45 VO (EU) 2018/848, Art. 6 VO (EU) 2021/2306
  recommendation: >
    Das fehlende Dokument (CHED bzw. COI) in TRACES NT anlegen bzw. beim Exporteur und der
    Kontrollstelle anfordern; Ware ohne Dokument nicht annehmen bzw. sperren und nicht als
    Bio-Ware verkaufen.
--- */
with needed as (
    -- every document a line needs: a COI for organic goods, the CHED its import control names
    select pl.*, a.article_no, a.name as article_name, kind.document_kind
    from staging.purchase_order_lines as pl
    join staging.all_articles as a on a.article_id = pl.article_id
    cross join compliance.settings as s
    cross join lateral (
        select 'COI' as document_kind where a.is_organic
        union all
        select a.import_control where a.import_control is not null
    ) as kind
    where pl.is_import
        and pl.po_status <> 'cancelled'
        and (pl.received_at is not null or pl.expected_on <= s.as_of)
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
        'origin', any_value(m.origin_country_code), 'dispatched_from', any_value(m.dispatched_from),
        'documents_missing', list(m.document_kind order by m.document_kind),
        'expected_on', any_value(m.expected_on), 'received_at', any_value(m.received_at),
        'batch_no', any_value(m.batch_no)
    ) as evidence
from missing as m
group by m.po_line_id
