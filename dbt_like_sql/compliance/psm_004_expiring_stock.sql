/* ---
description: >
  PSM-004 (medium): plant protection products are in stock whose authorisation ends within the
  warning horizon (90 days, today included).
owner: team:compliance
materialized: view
rule:
  id: PSM-004
  area: psm
  severity: medium
  entity: article
  subject: article
  legal_basis: § 28 Abs. 4 PflSchG
  recommendation: >
    Bestand bis zum Ende der Zulassung abverkaufen oder an den Lieferanten zurückgeben; keine
    Nachbestellung, Kunden auf das Zulassungsende hinweisen.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
with stock as (
    select article_id, sum(on_hand) as on_hand
    from staging.stock_levels
    group by article_id
    having sum(on_hand) > 0
)

select
    a.article_id as entity_id,
    a.tenant_id,
    a.article_id as subject_id,
    json_object(
        'article_no', a.article_no, 'article', a.name, 'bvl_no', a.psm_reg_no,
        'authorized_until', a.psm_authorized_until, 'days_left', a.psm_authorized_until - s.as_of,
        'on_hand', st.on_hand, 'unit', a.unit
    ) as evidence
from staging.all_articles as a
join stock as st on st.article_id = a.article_id
cross join compliance.settings as s
where a.category = 'psm'
    and a.psm_authorized_until between s.as_of and s.as_of + s.psm_expiry_warning_days
