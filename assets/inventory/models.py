"""The inputs of the reorder plan and the proposals view: SQL models (`dbt_like_sql/inventory/`)."""

from assets.freshness import DAILY
from assets.sqlmodels.factory import sql_model_assets

inventory_models = sql_model_assets("inventory", freshness_policy=DAILY)
