/* ---
description: >
  EXP-006 (high): a significant quantity of an explosives precursor (from 100 kg, a setting) left
  the stock as a loss or a negative inventory adjustment without any loss or theft case behind it.
  Art. 9 (5) covers significant disappearances and thefts only, so small breakage is not judged;
  adjustments were ignored before although a count that comes up short is a disappearance. Whether
  a case was reported in time is EXP-004's business (counting it here too was double). The root
  cause is the branch (warehouse) whose stock is missing.
owner: team:compliance
materialized: view
rule:
  id: EXP-006
  area: explosives
  severity: high
  entity: stock_movement
  subject: warehouse
  legal_basis: Art. 9 Abs. 5 VO (EU) 2019/1148; § 14 Abs. 2 Nr. 6 AusgStG (Bußgeld)
  recommendation: >
    Fehlmenge aufklären und als Verlust- bzw. Diebstahlsfall erfassen; erhebliches Abhandenkommen
    binnen 24 Stunden der Kontaktstelle (LKA) melden und den Fall mit der Buchung verknüpfen;
    Lagersicherung prüfen.
--- */
select
    m.movement_id as entity_id,
    m.tenant_id,
    m.warehouse_id as subject_id,
    json_object(
        'article_no', a.article_no, 'article', a.name, 'substance', a.substance, 'kind', m.kind,
        'quantity', m.quantity, 'unit', a.unit, 'quantity_kg', -m.quantity * case a.unit when 't' then 1000 else 1 end,
        'booked_on', m.movement_date, 'reference', m.reference_id
    ) as evidence
from staging.stock_movements as m
join compliance.precursor_articles as a on a.article_id = m.article_id
cross join compliance.settings as s
where m.kind in ('loss', 'adjustment')
    and m.quantity < 0
    and a.is_reportable
    and -m.quantity * case a.unit when 't' then 1000 else 1 end >= s.precursor_loss_significant_kg
    and not exists (
        select 1
        from staging.suspicious_transactions as t
        where t.case_id = m.reference_id and t.kind in ('loss', 'theft')
    )
