"""SQL models as assets: every file of `dbt_like_sql/<schema>/` becomes an asset of its
capability (`assets/<schema>/`), its tests asset checks next to it."""
