/* ---
description: >
  EXP-005 (high): an ammonium nitrate fertiliser with 28 % N or more from ammonium nitrate has no
  reference to a passed detonation-resistance test.
owner: team:compliance
materialized: view
rule:
  id: EXP-005
  area: explosives
  severity: high
  entity: article
  subject: article
  legal_basis: VO (EU) 2019/1009 Anhang IV Modul A1; PFC 1(C)(I)(a)(i-ii)(A)
  recommendation: >
    Prüfbescheinigung über die Detonationsfestigkeit beim Lieferanten anfordern und im Artikel
    hinterlegen; bis dahin Artikel nicht in Verkehr bringen.
--- */
select
    a.article_id as entity_id,
    a.tenant_id,
    a.article_id as subject_id,
    json_object('article_no', a.article_no, 'article', a.name, 'n_from_an_pct', a.n_from_an_pct) as evidence
from staging.articles as a
cross join compliance.settings as s
where a.n_from_an_pct >= s.an_detonation_test_n_pct and a.detonation_test_ref is null
