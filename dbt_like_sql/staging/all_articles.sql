/* ---
description: >
  Every article the ERP holds, soft-deleted ones included (the compliance rules judge sales of
  articles deleted since). `precursor_annex_by_content` is the EU 2019/1148 annex the article
  belongs to by what it contains (ammonium nitrate at 16 % N or more: Annex I; a listed nitrate or
  other substance: its annex), next to the annex the ERP records, and the concentration of an Annex I
  substance other than ammonium nitrate (`precursor_concentration_pct`, contract 1.1). The
  compliance rules classify by compliance.precursor_articles, which also weighs that concentration
  against the Annex I limit.
owner: team:purchasing
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: article_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [article_id, tenant_id, article_no, name, category, unit]
  # warn: an unknown value is a row-level problem: the row stays and the check lists it
  - accepted_values:
      column: category
      values: [psm, fertilizer, seed, feed, grain, biostimulant, other]
      severity: warn
  # warn: an orphan (its parent deleted at the source since) is row-level: it stays, the check lists it
  - relationships: {column: supplier_id, to: raw.suppliers, field: supplier_id, severity: warn}
--- */
select
    a.article_id,
    a.tenant_id,
    a.article_no,
    a.name,
    a.description,
    a.category,
    a.unit,
    a.pack_size,
    a.supplier_id,
    a.unit_cost,
    a.list_price,
    a.lead_time_days,
    a.min_order_qty,
    a.is_active,
    a.psm_reg_no,
    a.psm_authorized_until,
    a.psm_withdrawal_kind,
    a.psm_professional_only,
    a.n_total_pct,
    a.n_from_an_pct,
    a.precursor_annex,
    a.precursor_substance,
    a.precursor_concentration_pct,
    case
        when a.n_from_an_pct >= 16 then 'I'
        when a.precursor_substance in (
            'Hexamine', 'Acetone', 'Potassium nitrate', 'Sodium nitrate', 'Calcium nitrate',
            'Calcium ammonium nitrate', 'Magnesium powder', 'Magnesium nitrate hexahydrate', 'Aluminium powder'
        ) then 'II'
        when a.precursor_substance is not null then a.precursor_annex
    end as precursor_annex_by_content,
    a.detonation_test_ref,
    a.is_organic,
    a.import_control,
    a.eudr_commodity,
    a.deleted_at
from raw.articles as a
