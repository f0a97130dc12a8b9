/* ---
description: >
  EXP-005 (high): an ammonium nitrate fertiliser with 28 % N or more from ammonium nitrate has no
  reference to a passed detonation-resistance test.
owner: team:compliance
materialized: view
tests:
  - unique: entity_id
--- */
select
    'EXP-005' as rule_id,
    'explosives' as area,
    'high' as severity,
    'article' as entity_type,
    a.article_id as entity_id,
    a.tenant_id,
    'article' as subject_type,
    a.article_id as subject_id,
    json_object('article_no', a.article_no, 'article', a.name, 'n_from_an_pct', a.n_from_an_pct) as evidence,
    'VO (EU) 2019/1009 Anhang IV Modul A1; PFC 1(C)(I)(a)(i-ii)(A)' as legal_basis,
    'Prüfbescheinigung über die Detonationsfestigkeit beim Lieferanten anfordern und im Artikel '
    || 'hinterlegen; bis dahin Artikel nicht in Verkehr bringen.' as recommendation
from staging.articles as a
cross join compliance.settings as s
where a.n_from_an_pct >= s.an_detonation_test_n_pct and a.detonation_test_ref is null
