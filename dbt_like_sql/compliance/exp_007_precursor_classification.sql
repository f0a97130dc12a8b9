/* ---
description: >
  EXP-007 (medium): an article's explosives-precursor classification in the article master is
  missing or differs from what its content means under the annexes of EU 2019/1148, or the content
  needed to classify it is missing: a nitrogen fertiliser without its N from ammonium nitrate
  (before, it escaped every EXP rule), an Annex I substance other than ammonium nitrate without its
  concentration (`precursor_concentration_pct`, contract 1.1; not judged while the source lacks that
  column).
owner: team:compliance
materialized: view
rule:
  id: EXP-007
  area: explosives
  severity: medium
  entity: article
  subject: article
  legal_basis: Art. 3 Nr. 2 und 3, Anhänge I und II VO (EU) 2019/1148
  recommendation: >
    Gehalte (N aus Ammoniumnitrat bzw. Konzentration) und Einstufung (Anhang I/II, Stoff) im
    Artikelstamm nach Sicherheitsdatenblatt berichtigen, damit Abgabesperren, Kundenerklärung und
    Meldepflichten greifen.
--- */
select
    a.article_id as entity_id,
    a.tenant_id,
    a.article_id as subject_id,
    json_object(
        'article_no', a.article_no, 'article', a.name, 'problem', coalesce(a.content_gap, 'classification differs'),
        'recorded_annex', a.recorded_annex, 'annex_by_content', a.annex_by_content, 'substance', a.substance,
        'n_total_pct', a.n_total_pct, 'n_from_an_pct', a.n_from_an_pct, 'concentration_pct', a.concentration_pct
    ) as evidence
from compliance.precursor_articles as a
where not a.is_deleted
    and (
        a.content_gap is not null
        or (a.annex_by_content is not null and a.recorded_annex is distinct from a.annex_by_content)
    )
