"""Typed, current rows of the ERP, one per source entity (`dbt_like_sql/staging/`)."""
