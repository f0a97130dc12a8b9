/* ---
description: >
  Current articles, one row per article: soft-deleted ones left out. Carries the precursor annex
  by content (see staging.all_articles).
owner: team:purchasing
materialized: view
tests:
  - unique: article_id
  - not_null: [article_id, tenant_id, article_no, name, category, unit]
--- */
select * exclude (deleted_at)
from staging.all_articles
where deleted_at is null
