/* ---
description: >
  PSM-007 (medium): the authorisation end the ERP records for a plant protection article differs
  from the BVL register's for its product (the review found one product carrying different ERP
  dates on its 5 l and 10 l articles). The rules judge by the register; the ERP's date drives
  webshop listings, reorders and the sales block, so it must be corrected. An earlier ERP date
  after a withdrawal for risk is no mismatch: a register snapshot may predate the withdrawal.
owner: team:compliance
materialized: view
rule:
  id: PSM-007
  area: psm
  severity: medium
  entity: article
  legal_basis: Art. 28 Abs. 1, Art. 46 VO (EG) 1107/2009 (Zulassungsende laut BVL-Register)
  recommendation: >
    Zulassungsende im Artikelstamm aus dem BVL-Register übernehmen, damit Verkaufssperre,
    Webshop und Bestellvorschlag das richtige Datum verwenden.
--- */
select
    p.article_id as entity_id,
    p.tenant_id,
    p.subject_type,
    p.subject_id,
    json_merge_patch(p.article_evidence, json_object(
        'erp_authorized_until', p.erp_authorized_until, 'register_authorized_until', p.register_authorized_until,
        'withdrawal', p.withdrawal_kind
    )) as evidence
from compliance.psm_authorisations as p
where not p.is_deleted
    and p.register_authorized_until is not null
    and p.erp_authorized_until is distinct from p.register_authorized_until
    and not coalesce(p.withdrawal_kind = 'authority_risk' and p.erp_authorized_until < p.register_authorized_until, false)
