"""The resources of the code location, bound to the deployment's environment (12-factor)."""

import dagster as dg

from assets.finance.resources import FinanceSettings
from assets.resources import ErpSource, Warehouse


def resources_from_env() -> dict[str, dg.ConfigurableResource]:
    return {
        "erp_source": ErpSource(url=dg.EnvVar("NEUROERP_SOURCE_URL")),
        "warehouse": Warehouse(home=dg.EnvVar("NEUROERP_HOME")),
        "finance": FinanceSettings(
            payment_accounts=dg.EnvVar("NEUROERP_PAYMENT_ACCOUNTS"), base_rate_pct=dg.EnvVar("NEUROERP_BASE_RATE_PCT")
        ),
    }
