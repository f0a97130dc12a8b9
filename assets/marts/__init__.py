"""What analysts ask of the ERP, ready to query (`dbt_like_sql/marts/`), rebuilt daily."""
