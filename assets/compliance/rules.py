"""The compliance rules, their settings, the union of their findings and the scores: SQL models."""

from assets.freshness import HOURLY
from assets.sqlmodels.factory import sql_model_assets

compliance_models = sql_model_assets("compliance", freshness_policy=HOURLY)
