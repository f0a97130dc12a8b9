"""The finance SQL models: open payables, the calendar, Skonto deducted after its window, the
missed-Skonto and AR Skonto-abuse marts."""

from assets.freshness import DAILY
from assets.sqlmodels.factory import sql_model_assets

finance_models = sql_model_assets("finance", freshness_policy=DAILY)
