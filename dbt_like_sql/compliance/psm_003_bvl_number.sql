/* ---
description: >
  PSM-003 (critical): a plant protection article has no BVL number, a malformed one (six letters
  or digits, a hyphen, two digits; or a parallel-trade permit "GP" number built on one), or one the
  BVL register does not know although nothing explains the absence. An article whose authorisation
  ended by the ERP's own date is absent from a register of current products without being unknown
  (PSM-002, PSM-008 judge its sales and stock); a parallel-trade number is judged by its reference
  product (§ 28 Abs. 1 PflSchG: a parallel-trade permit counts as authorisation). § 9 PflSchG (the
  Sachkunde) was cited before and does not apply.
owner: team:compliance
materialized: view
rule:
  id: PSM-003
  area: psm
  severity: critical
  entity: article
  subject: article
  legal_basis: Art. 28 Abs. 1, Art. 52 VO (EG) 1107/2009; § 28 Abs. 1 PflSchG
  recommendation: >
    Zulassungs- bzw. Parallelhandelsnummer (GP) gegen das BVL-Register prüfen und im Artikelstamm
    berichtigen; ohne gültige Zulassung oder Genehmigung Artikel sperren und nicht abgeben.
--- */
with checked as (
    select
        p.*,
        case
            when p.psm_reg_no is null then 'missing'
            when not regexp_full_match(p.product_no, '[0-9A-Z]{6}-[0-9]{2}') then 'malformed'
            when p.register_authorized_until is null
                and (p.erp_authorized_until is null or p.erp_authorized_until >= s.as_of)
                then 'not in the BVL register'
        end as problem
    from compliance.psm_authorisations as p
    cross join compliance.settings as s
)

select
    c.article_id as entity_id,
    c.tenant_id,
    c.article_id as subject_id,
    json_object(
        'article_no', c.article_no, 'article', c.name, 'bvl_no', c.psm_reg_no, 'problem', c.problem,
        'parallel_trade', c.is_parallel_trade, 'erp_authorized_until', c.erp_authorized_until
    ) as evidence
from checked as c
where c.problem is not null and not c.is_deleted
