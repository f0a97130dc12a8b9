/* ---
description: >
  EXP-007 (medium): a fertiliser or chemical's explosives-precursor classification in the article
  master is missing or differs from what its content means under the annexes of EU 2019/1148.
owner: team:compliance
materialized: view
rule:
  id: EXP-007
  area: explosives
  severity: medium
  entity: article
  subject: article
  legal_basis: Anhänge I und II VO (EU) 2019/1148
  recommendation: >
    Einstufung im Artikelstamm berichtigen (Anhang I/II, Stoff, N aus Ammoniumnitrat), damit
    Abgabesperren und Kundenerklärung greifen.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
select
    a.article_id as entity_id,
    a.tenant_id,
    a.article_id as subject_id,
    json_object(
        'article_no', a.article_no, 'article', a.name, 'recorded_annex', a.precursor_annex,
        'annex_by_content', a.precursor_annex_by_content, 'substance', a.precursor_substance,
        'n_from_an_pct', a.n_from_an_pct
    ) as evidence
from staging.articles as a
where a.precursor_annex_by_content is not null
    and a.precursor_annex is distinct from a.precursor_annex_by_content
