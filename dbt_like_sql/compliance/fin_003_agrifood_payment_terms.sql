/* ---
description: >
  FIN-003 (high): a supplier of agricultural products (grain, feed, seed: the greater part of its
  purchase order lines) was given payment terms over 60 days. § 11 (2) Nr. 2 AgrarOLkG, Germany's
  implementation of Art. 3 (1) (a) of directive (EU) 2019/633, caps the term at 60 days after
  delivery for non-perishable agri-food products (30 for perishable ones, which this trade does not
  buy), and a longer term cannot be agreed (§ 11 (4)). The law protects a supplier with less
  turnover than the buyer and at most EUR 350 million (§ 10); the farms and cooperatives a
  Landhandel buys from are assumed to be such suppliers (the ERP records no turnover). Buying
  on such terms is the trader's own failure; the supplier is the root cause's counterpart.
owner: team:compliance
materialized: view
rule:
  id: FIN-003
  area: finance
  severity: high
  entity: invoice
  subject: supplier
  legal_basis: § 11 Abs. 2 Nr. 2 und Abs. 4, § 10 AgrarOLkG; Art. 3 Abs. 1 lit. a RL (EU) 2019/633
  recommendation: >
    Zahlungsziel auf höchstens 60 Tage nach Lieferung verkürzen und die Rechnung fristgerecht
    bezahlen; Einkaufskonditionen für landwirtschaftliche Lieferanten anpassen.
--- */
with agrifood as (
    select pl.supplier_id
    from staging.purchase_order_lines as pl
    join staging.all_articles as a on a.article_id = pl.article_id
    where pl.po_status <> 'cancelled'
    group by pl.supplier_id
    having count(*) filter (where a.category in ('grain', 'feed', 'seed')) * 2 > count(*)
)

select
    i.invoice_id as entity_id,
    i.tenant_id,
    i.partner_id as subject_id,
    json_object(
        'invoice_no', i.invoice_no, 'invoice_date', i.invoice_date, 'net_days', i.net_days, 'due_on', i.due_on,
        'max_days', s.agrifood_max_payment_days, 'gross_amount', i.gross_amount
    ) as evidence
from staging.invoices as i
join agrifood as f on f.supplier_id = i.partner_id
cross join compliance.settings as s
where i.kind = 'AP' and not i.is_cancelled and i.net_days > s.agrifood_max_payment_days
