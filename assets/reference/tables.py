"""Public reference data in the warehouse, for the rules that judge against it."""

import os
from pathlib import Path

import dagster as dg

from neuroerp.compliance.reference_tables import load_reference_tables
from pipelines.resources import Warehouse


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["reference", "bvl_products"],
            group_name="reference",
            kinds={"duckdb", "csv"},
            description=(
                "Plant protection products authorised in Germany (BVL register): BVL number, name, "
                "authorisation dates. The packaged snapshot of 2025-11-11, or a newer export named by "
                "NEUROERP_BVL_REGISTER."
            ),
        ),
        dg.AssetSpec(
            ["reference", "precursors"],
            group_name="reference",
            kinds={"duckdb", "csv"},
            description="Explosives precursors of EU 2019/1148, Annex I (restricted, with limits) and II (reportable).",
        ),
    ],
    pool="duckdb_warehouse",
)
def reference_tables(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Load the reference tables into the `reference` schema."""
    export = os.environ.get("NEUROERP_BVL_REGISTER")
    with warehouse.connect() as conn:
        rows = load_reference_tables(conn, Path(export) if export else None)
    source = export or "packaged snapshot 2025-11-11"
    for name, n in rows.items():
        yield dg.MaterializeResult(asset_key=["reference", name], metadata={"dagster/row_count": n, "source": source})
