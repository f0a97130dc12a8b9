/* ---
description: >
  PSM-009 (high): plant protection goods were received after their authorisation ended. The
  sell-out period covers only goods already on the market when the authorisation ended (BVL,
  "Vorschriften zur Abgabe"); what arrives later may not be sold at all, not even within the six
  months. Judged by the register's end (compliance.psm_authorisations).
owner: team:compliance
materialized: view
rule:
  id: PSM-009
  area: psm
  severity: high
  entity: purchase_order_line
  legal_basis: Art. 28 Abs. 1, Art. 46 VO (EG) 1107/2009
  recommendation: >
    Wareneingang sperren und an den Lieferanten zurücksenden; die Ware darf auch innerhalb der
    Abverkaufsfrist nicht verkauft werden. Bestellungen auslaufender Mittel im Einkauf blockieren.
--- */
select
    pl.po_line_id as entity_id,
    pl.tenant_id,
    p.subject_type,
    p.subject_id,
    json_merge_patch(p.article_evidence, json_object(
        'po_id', pl.po_id, 'supplier_id', pl.supplier_id, 'received_at', pl.received_at, 'quantity', pl.quantity,
        'batch_no', pl.batch_no
    )) as evidence
from staging.purchase_order_lines as pl
join compliance.psm_authorisations as p on p.article_id = pl.article_id
where pl.po_status <> 'cancelled'
    and pl.received_at is not null
    and cast(pl.received_at at time zone 'Europe/Berlin' as date) > p.authorized_until
