/* ---
description: >
  Current articles, one row per article: soft-deleted ones left out. Carries the precursor annex
  by content (see staging.all_articles).
owner: team:purchasing
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: article_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [article_id, tenant_id, article_no, name, category, unit]
--- */
select * exclude (deleted_at)
from staging.all_articles
where deleted_at is null
