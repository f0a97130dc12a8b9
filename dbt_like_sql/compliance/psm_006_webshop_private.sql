/* ---
description: >
  PSM-006 (critical): a plant protection product for professional users only was sold through the
  webshop to a private customer.
owner: team:compliance
materialized: view
rule:
  id: PSM-006
  area: psm
  severity: critical
  entity: sales_order_line
  subject: customer
  legal_basis: § 23 Abs. 1 bis 3 PflSchG
  recommendation: >
    Profi-PSM im Webshop nur nach Prüfung des Sachkundenachweises freigeben; Bestellung stornieren
    und Webshop-Sortiment für Privatkunden sperren.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
select
    l.line_id as entity_id,
    l.tenant_id,
    l.customer_id as subject_id,
    json_object(
        'order_id', l.order_id, 'ordered_on', l.order_date, 'article_no', a.article_no,
        'article', a.name, 'bvl_no', a.psm_reg_no, 'customer_no', c.customer_no
    ) as evidence
from staging.sales_order_lines as l
join staging.all_articles as a on a.article_id = l.article_id
join raw.customers as c on c.customer_id = l.customer_id
where l.went_ahead and l.channel = 'webshop' and a.psm_professional_only and not c.is_professional
