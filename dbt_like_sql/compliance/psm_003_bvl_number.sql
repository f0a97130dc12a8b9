/* ---
description: >
  PSM-003 (critical): a plant protection article has no BVL number, a malformed one (nine
  characters: six letters or digits, a hyphen, two digits), or one the BVL register does not know.
owner: team:compliance
materialized: view
rule:
  id: PSM-003
  area: psm
  severity: critical
  entity: article
  subject: article
  legal_basis: § 9, § 28 PflSchG; Art. 28 VO (EG) 1107/2009
  recommendation: >
    Zulassungsnummer gegen das BVL-Register prüfen und im Artikelstamm berichtigen; ohne gültige
    Zulassung Artikel sperren.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
select
    a.article_id as entity_id,
    a.tenant_id,
    a.article_id as subject_id,
    json_object(
        'article_no', a.article_no, 'article', a.name, 'bvl_no', a.psm_reg_no,
        'problem', case
            when a.psm_reg_no is null then 'missing'
            when not regexp_full_match(a.psm_reg_no, '[0-9A-Z]{6}-[0-9]{2}') then 'malformed'
            else 'not in the BVL register'
        end
    ) as evidence
from staging.articles as a
where a.category = 'psm'
    and (
        a.psm_reg_no is null
        or not regexp_full_match(a.psm_reg_no, '[0-9A-Z]{6}-[0-9]{2}')
        or not exists (select 1 from reference.bvl_products as r where r.kennr = a.psm_reg_no)
    )
