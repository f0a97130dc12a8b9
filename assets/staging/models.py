"""Staging views: rebuilt with every compliance run, so they promise what it promises."""

from assets.freshness import HOURLY
from assets.sqlmodels.factory import sql_model_assets

staging_models = sql_model_assets("staging", freshness_policy=HOURLY)
