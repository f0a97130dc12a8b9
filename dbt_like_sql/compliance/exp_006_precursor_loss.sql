/* ---
description: >
  EXP-006 (high): stock of an explosives precursor was booked as lost without a reported loss or
  theft case behind it.
owner: team:compliance
materialized: view
rule:
  id: EXP-006
  area: explosives
  severity: high
  entity: stock_movement
  subject: warehouse
  legal_basis: Art. 9 Abs. 1 VO (EU) 2019/1148
  recommendation: >
    Fehlmenge aufklären; erheblichen Schwund oder Diebstahl binnen 24 Stunden der Kontaktstelle
    melden und den Fall mit der Buchung verknüpfen.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
select
    m.movement_id as entity_id,
    m.tenant_id,
    m.warehouse_id as subject_id,
    json_object(
        'article_no', a.article_no, 'article', a.name, 'substance', a.precursor_substance,
        'quantity', m.quantity, 'unit', a.unit, 'booked_on', m.movement_date, 'reference', m.reference_id
    ) as evidence
from staging.stock_movements as m
join staging.all_articles as a on a.article_id = m.article_id
where m.kind = 'loss'
    and a.precursor_substance is not null
    and not exists (
        select 1
        from staging.suspicious_transactions as t
        where t.case_id = m.reference_id and t.kind in ('loss', 'theft') and t.reported_at is not null
    )
