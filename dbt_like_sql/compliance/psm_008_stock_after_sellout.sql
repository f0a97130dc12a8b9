/* ---
description: >
  PSM-008 (high): a plant protection product whose sell-out period has ended is still in stock or
  still active for sale in the ERP (orderable, listed in the webshop). Nothing of it may be sold
  any more; what is left goes back to the supplier or to disposal. Judged by the register's end
  (compliance.psm_authorisations).
owner: team:compliance
materialized: view
rule:
  id: PSM-008
  area: psm
  severity: high
  entity: article
  legal_basis: Art. 28 Abs. 1, Art. 46 VO (EG) 1107/2009
  recommendation: >
    Artikel im ERP und im Webshop sperren, Restbestand separat lagern und an den Lieferanten
    zurückgeben oder fachgerecht entsorgen lassen; Rücknahme dokumentieren.
--- */
select
    p.article_id as entity_id,
    p.tenant_id,
    p.subject_type,
    p.subject_id,
    json_merge_patch(p.article_evidence, json_object(
        'sellable_until', p.sellable_until, 'on_hand', p.on_hand, 'sites', p.stocked_sites, 'active_for_sale', p.is_active
    )) as evidence
from compliance.psm_authorisations as p
cross join compliance.settings as s
where not p.is_deleted
    and p.sellable_until < s.as_of
    and (p.on_hand > 0 or p.is_active)
