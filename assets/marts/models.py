"""The marts: customer 360, article sales per day, invoice aging, audit statistics."""

from assets.freshness import DAILY
from assets.sqlmodels.factory import sql_model_assets

mart_models = sql_model_assets("marts", freshness_policy=DAILY)
