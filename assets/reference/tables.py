"""Public reference data in the warehouse, for the rules that judge against it."""

import os
from pathlib import Path

import dagster as dg

from assets.freshness import HOURLY
from assets.resources import Warehouse
from assets.sqlmodels.factory import relation_key
from neuroerp.reference.warehouse import LOAD_REFERENCE_TABLES, load_reference_tables

BVL, PRECURSORS = LOAD_REFERENCE_TABLES.writes
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
    ],
    pool="duckdb_warehouse",
)
def reference_tables(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Load the reference tables into the `reference` schema."""
    export = os.environ.get("NEUROERP_BVL_REGISTER")  # a deployment's file, like the source URL
    with warehouse.connect() as conn:
        rows = load_reference_tables(conn, Path(export) if export else None)
    source = export or "packaged snapshot 2025-11-11"
    for name, n in rows.items():
        yield dg.MaterializeResult(asset_key=["reference", name], metadata={"dagster/row_count": n, "source": source})
