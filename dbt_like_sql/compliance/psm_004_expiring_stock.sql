/* ---
description: >
  PSM-004 (medium): plant protection products are in stock whose sell-out period ends within the
  warning horizon (90 days, today included), judged by the register's authorisation end. Before,
  the rule looked only at the authorisation end and told officers to sell until then, although
  selling is allowed six months beyond it; stock still held after the sell-out period is PSM-008's.
owner: team:compliance
materialized: view
rule:
  id: PSM-004
  area: psm
  severity: medium
  entity: article
  legal_basis: Art. 46 VO (EG) 1107/2009 (Abverkaufsfrist)
  recommendation: >
    Bestand bis zum Ende der Abverkaufsfrist abverkaufen oder rechtzeitig an den Lieferanten
    zurückgeben; nicht nachbestellen und Kunden auf das Ende der Abverkaufs- und Aufbrauchfrist
    hinweisen.
--- */
select
    p.article_id as entity_id,
    p.tenant_id,
    p.subject_type,
    p.subject_id,
    json_merge_patch(p.article_evidence, json_object(
        'sellable_until', p.sellable_until, 'days_left', p.sellable_until - s.as_of, 'on_hand', p.on_hand
    )) as evidence
from compliance.psm_authorisations as p
cross join compliance.settings as s
where not p.is_deleted
    and p.on_hand > 0
    and p.sellable_until between s.as_of and s.as_of + s.psm_sellout_warning_days
