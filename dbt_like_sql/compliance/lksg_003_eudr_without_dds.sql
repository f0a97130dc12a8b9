/* ---
description: >
  LKSG-003 (high): an EUDR commodity (soya, palm, cattle, cocoa, coffee, rubber, wood) that this
  tenant imported itself (shipped from outside the EU: `dispatch_country_code`, contract 1.1, or
  the origin) arrived on or after the EUDR application date without a due-diligence statement
  reference. Under VO (EU) 2023/1115 as amended by 2025/2650 only the operator who first places the
  goods on the Union market files a DDS; downstream operators and traders file none, and a purchase
  from an EU supplier is such a downstream purchase (only the first downstream operator must keep the
  upstream reference, which the contract cannot tell apart). The day that counts is the arrival
  (receipt, or the expected day), not the order. The application date for micro and small
  companies is 30.06.2027 (setting). Reported in the lksg area with the supply-chain duties;
  whether the area applies to a tenant is decided where areas are scored.
owner: team:compliance
materialized: view
rule:
  id: LKSG-003
  area: lksg
  severity: high
  entity: purchase_order_line
  subject: supplier
  legal_basis: Art. 3, 4 Abs. 2, Art. 33 VO (EU) 2023/1115 i. d. F. VO (EU) 2025/2650
  recommendation: >
    Vor dem Inverkehrbringen die Sorgfaltserklärung (DDS) im EU-Informationssystem abgeben und die
    Referenznummer in der Zollanmeldung und im Einkauf erfassen; ohne DDS die Ware nicht in
    Verkehr bringen.
--- */
select
    pl.po_line_id as entity_id,
    pl.tenant_id,
    pl.supplier_id as subject_id,
    json_object(
        'po_id', pl.po_id, 'ordered_at', pl.ordered_at, 'arrived_on', coalesce(cast(pl.received_at at time zone 'Europe/Berlin' as date), pl.expected_on),
        'article_no', a.article_no, 'article', a.name, 'commodity', a.eudr_commodity,
        'origin', pl.origin_country_code, 'dispatched_from', pl.dispatched_from
    ) as evidence
from staging.purchase_order_lines as pl
join staging.all_articles as a on a.article_id = pl.article_id
cross join compliance.settings as s
where a.eudr_commodity is not null
    and pl.is_import
    and pl.dds_reference is null
    and pl.po_status <> 'cancelled'
    and coalesce(cast(pl.received_at at time zone 'Europe/Berlin' as date), pl.expected_on) >= s.eudr_application_date
