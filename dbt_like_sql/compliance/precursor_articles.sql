/* ---
description: >
  What every article is under EU 2019/1148, one row per article that names a precursor substance,
  records an annex or is a nitrogen fertiliser (deleted ones included): the annex by content
  (ammonium nitrate at the threshold of N from ammonium nitrate or more: I; another Annex I
  substance above its limit by `precursor_concentration_pct`, contract 1.1: I; an Annex II
  substance: II), whether the explosives rules treat it as restricted (Annex I by content, or
  recorded as Annex I while the content that could say otherwise is not known) or reportable
  (restricted or Annex II, Art. 9), and what content data is missing to judge it. The explosives
  rules judge by this one definition.
owner: team:compliance
materialized: view
columns:
  article_id: The article.
  tenant_id: The tenant (company).
  article_no: Article number.
  name: Article name.
  unit: Unit of quantities (kg, t, l, piece, bag).
  pack_size: Pack size in that unit.
  substance: The precursor substance the ERP records.
  recorded_annex: The annex the ERP records.
  n_total_pct: Total nitrogen, %.
  n_from_an_pct: Nitrogen from ammonium nitrate, %.
  concentration_pct: Concentration of an Annex I substance other than ammonium nitrate, % w/w (contract 1.1).
  limit_pct: The Annex I limit of that substance, % w/w.
  annex_by_content: I, II or null.
  is_restricted: Treated as restricted (Annex I above its limit).
  is_reportable: Restricted or Annex II, so suspicious transactions, losses and thefts must be reported.
  content_gap: What content data is missing to classify the article, null when none.
  is_deleted: The article is deleted in the ERP.
tests:
  # error: the explosives rules join this per article; a duplicate fans out their findings
  - unique: article_id
--- */
with articles as (
    select
        a.*,
        p.annex as substance_annex,
        p.limit_value,
        exists (
            select 1 from ops.absent_columns as x
            where x.table_name = 'articles' and x.column_name = 'precursor_concentration_pct'
        ) as concentration_absent
    from staging.all_articles as a
    left join reference.precursors as p on p.substance = a.precursor_substance
    where a.precursor_substance is not null
        or a.precursor_annex is not null
        or (a.category = 'fertilizer' and a.n_total_pct > 0)
),

classified as (
    select
        a.*,
        case
            when a.n_from_an_pct >= s.an_restricted_n_pct then 'I'
            when a.substance_annex = 'I' and a.precursor_substance <> 'Ammonium nitrate'
                and a.precursor_concentration_pct > a.limit_value then 'I'
            when a.substance_annex = 'II' then 'II'
        end as annex_by_content,
        case
            when a.precursor_substance = 'Ammonium nitrate' or a.precursor_substance is null
                then a.n_from_an_pct < s.an_restricted_n_pct
            when a.substance_annex = 'I' then a.precursor_concentration_pct <= a.limit_value
            else false
        end as below_limit,
        case
            when a.n_from_an_pct is null and (a.precursor_substance = 'Ammonium nitrate' or (a.category = 'fertilizer' and a.n_total_pct > 0))
                then 'nitrogen from ammonium nitrate not recorded'
            when a.substance_annex = 'I' and a.precursor_substance <> 'Ammonium nitrate'
                and a.precursor_concentration_pct is null and not a.concentration_absent
                then 'concentration not recorded'
        end as content_gap
    from articles as a
    cross join compliance.settings as s
)

select
    c.article_id,
    c.tenant_id,
    c.article_no,
    c.name,
    c.unit,
    c.pack_size,
    c.precursor_substance as substance,
    c.precursor_annex as recorded_annex,
    c.n_total_pct,
    c.n_from_an_pct,
    c.precursor_concentration_pct as concentration_pct,
    c.limit_value as limit_pct,
    c.annex_by_content,
    c.annex_by_content = 'I' or (c.precursor_annex = 'I' and not coalesce(c.below_limit, false)) as is_restricted,
    c.annex_by_content is not null or c.precursor_annex is not null as is_reportable,
    c.content_gap,
    c.deleted_at is not null as is_deleted
from classified as c
