/* ---
description: >
  PSM-002 (critical): a plant protection product was sold after its authorisation ended plus the
  sell-out period (six months), or after it ended at all when the authority withdrew it for risk.
  The end is the BVL register's where the register knows the product (compliance.psm_authorisations),
  not the ERP's: the ERP's own date judged 75 demo sales of products the register lists as still
  authorised (a wrong ERP date is PSM-007's finding). One finding per sales line, the product (its
  BVL number) is the root cause: one case per product. Goods received after the end are not covered
  by the sell-out period at all (PSM-009 finds those receipts).
owner: team:compliance
materialized: view
rule:
  id: PSM-002
  area: psm
  severity: critical
  entity: sales_order_line
  legal_basis: Art. 28 Abs. 1, Art. 46 VO (EG) 1107/2009; § 68 Abs. 1 PflSchG (Bußgeld)
  recommendation: >
    Verkauf sofort stoppen, Restbestand sperren und an den Lieferanten zurückgeben oder fachgerecht
    entsorgen; Abnehmer über das Ende der Abverkaufsfrist informieren (Aufbrauchfrist beachten) und
    den Vorgang dokumentieren.
--- */
select
    l.line_id as entity_id,
    l.tenant_id,
    p.subject_type,
    p.subject_id,
    json_merge_patch(p.article_evidence, json_object(
        'withdrawal', p.withdrawal_kind, 'sellable_until', p.sellable_until, 'sold_on', l.order_date,
        'order_id', l.order_id, 'customer_id', l.customer_id, 'quantity', l.quantity
    )) as evidence
from staging.sales_order_lines as l
join compliance.psm_authorisations as p on p.article_id = l.article_id
where l.went_ahead and l.order_date > p.sellable_until
