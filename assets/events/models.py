"""Saga and event-bus health: SQL models (`dbt_like_sql/events/`) with their warn checks."""

from assets.freshness import HOURLY
from assets.sqlmodels.factory import sql_model_assets

event_models = sql_model_assets("events", freshness_policy=HOURLY)
