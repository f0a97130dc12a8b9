"""`finance/supplier_ibans`: every supplier IBAN judged by the maintained IBAN library (schwifty)."""

import dagster as dg

from assets.freshness import HOURLY
from assets.resources import Warehouse
from assets.sqlmodels.factory import relation_key
from neuroerp.finance.ibans import CHECK_IBANS, check_supplier_ibans


@dg.asset(
    key=relation_key(CHECK_IBANS.relation),
    deps=[relation_key(r) for r in CHECK_IBANS.reads],
    group_name="finance",
    kinds={"python", "duckdb"},
    owners=["team:finance"],
    freshness_policy=HOURLY,
    pool="duckdb_warehouse",
)
def supplier_ibans(warehouse: Warehouse) -> dg.MaterializeResult:
    """One row per supplier with an IBAN: whether schwifty finds it valid (check digits, length and
    structure for its country) and why not. The compliance rule FIN-002 selects the invalid ones; an
    IBAN outside the SEPA zone is valid here (the payment run excludes it on its own)."""
    with warehouse.connect() as conn:
        counts = check_supplier_ibans(conn)
    return dg.MaterializeResult(metadata={"dagster/row_count": counts["checked"], "invalid": counts["invalid"]})
