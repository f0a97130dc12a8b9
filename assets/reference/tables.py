"""Public reference data in the warehouse, for the rules that judge against it."""

import os
from pathlib import Path

import dagster as dg

from assets.freshness import HOURLY
from assets.resources import Warehouse
from assets.sqlmodels.factory import relation_key
from neuroerp.reference.warehouse import LOAD_REFERENCE_TABLES, load_reference_tables

BVL, PRECURSORS, SANCTIONS = LOAD_REFERENCE_TABLES.writes
SPEC_DEFAULTS = {"group_name": "reference", "kinds": {"duckdb", "csv"}, "owners": ["team:compliance"],
                 "freshness_policy": HOURLY}  # fmt: skip


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            relation_key(BVL),
            description=(
                "Plant protection products authorised in Germany (BVL register): BVL number, name, "
                "authorisation dates. The packaged snapshot of 2025-11-11, or a newer export named by "
                "NEUROERP_BVL_REGISTER."
            ),
            **SPEC_DEFAULTS,
        ),
        dg.AssetSpec(
            relation_key(PRECURSORS),
            description="Explosives precursors of EU 2019/1148, Annex I (restricted, with limits) and II (reportable).",
            **SPEC_DEFAULTS,
        ),
        dg.AssetSpec(
            relation_key(SANCTIONS),
            description=(
                "Names and aliases of persons and entities under EU financial sanctions, for the screening "
                "of customers and suppliers (FIN-004): the full consolidated list of the EU Financial "
                "Sanctions Files named by NEUROERP_SANCTIONS_LIST, else a packaged sample excerpt that "
                "is no screening list."
            ),
            **SPEC_DEFAULTS,
        ),
    ],
    pool="duckdb_warehouse",
)
def reference_tables(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Load the reference tables into the `reference` schema."""
    export = os.environ.get("NEUROERP_BVL_REGISTER")  # deployments' files, like the source URL
    sanctions = os.environ.get("NEUROERP_SANCTIONS_LIST")
    with warehouse.connect() as conn:
        rows = load_reference_tables(conn, Path(export) if export else None, Path(sanctions) if sanctions else None)
    sources = {
        "bvl_products": export or "packaged snapshot 2025-11-11",
        "precursors": "Regulation (EU) 2019/1148, Annexes I and II",
        "sanctions_list": sanctions or "packaged sample excerpt (not a screening list): set NEUROERP_SANCTIONS_LIST",
    }
    for name, n in rows.items():
        yield dg.MaterializeResult(
            asset_key=["reference", name], metadata={"dagster/row_count": n, "source": sources[name]}
        )
