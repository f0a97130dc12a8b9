"""The resources of the code location, bound to the deployment's environment (12-factor)."""

import os

import dagster as dg

from assets.events.resources import NATS_VAR, EventBus
from assets.finance.resources import FinanceSettings
from assets.resources import ErpSource, Warehouse
from assets.search.resources import SearchIndex
from neuroerp.search.config import BATCH_VAR, DEVICE_VAR, MODEL_VAR, PRECISION_VAR, TTL_VAR, apply_search_defaults


def resources_from_env() -> dict[str, dg.ConfigurableResource]:
    apply_search_defaults()
    return {
        "erp_source": ErpSource(url=dg.EnvVar("NEUROERP_SOURCE_URL")),
        "warehouse": Warehouse(home=dg.EnvVar("NEUROERP_HOME")),
        "search": SearchIndex(
            home=dg.EnvVar("NEUROERP_HOME"),
            model=dg.EnvVar(MODEL_VAR),
            device=dg.EnvVar(DEVICE_VAR),
            batch_size=dg.EnvVar.int(BATCH_VAR),
            cache_ttl_s=dg.EnvVar.int(TTL_VAR),
            precision=dg.EnvVar(PRECISION_VAR),
        ),  # fmt: skip
        # optional: alerts stay in the warehouse when no event bus is configured
        "event_bus": EventBus(nats_url=dg.EnvVar(NATS_VAR)) if os.environ.get(NATS_VAR) else EventBus(),
        "finance": FinanceSettings(
            payment_accounts=dg.EnvVar("NEUROERP_PAYMENT_ACCOUNTS"), base_rate_pct=dg.EnvVar("NEUROERP_BASE_RATE_PCT")
        ),
    }
