"""Reference data in the warehouse (`reference.*`), for rules that judge against it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from neuroerp import reference
from neuroerp.reference.build import bvl_local_date
from neuroerp.sqlmodels import PythonStep

LOAD_REFERENCE_TABLES = PythonStep("reference_tables", writes=("reference.bvl_products", "reference.precursors"))


def bvl_register(export: Path | None = None) -> pl.DataFrame:
    """The BVL register: the packaged snapshot, or a newer export (the packaged columns, or the
    BVL API's `/mittel/` columns kennr, mittelname, formulierung_art, zul_erstmalig_am, zul_ende)."""
    if export is None:
        return reference.bvl_products()
    df = pl.read_csv(export, infer_schema_length=None, schema_overrides={"kennr": pl.String})
    if "mittelname" in df.columns:
        df = df.select(
            "kennr",
            name="mittelname",
            formulation="formulierung_art",
            first_authorised_on=pl.col("zul_erstmalig_am").map_elements(bvl_local_date, return_dtype=pl.String),
            authorised_until=pl.col("zul_ende").map_elements(bvl_local_date, return_dtype=pl.String),
        ).with_columns(pl.col("first_authorised_on", "authorised_until").str.to_date(strict=False))
    missing = {"kennr", "name", "authorised_until"} - set(df.columns)
    if missing:
        raise ValueError(f"{export}: not a BVL register export, it lacks columns {sorted(missing)}")
    return df


def load_reference_tables(conn: duckdb.DuckDBPyConnection, bvl_export: Path | None = None) -> dict[str, int]:
    """Replace reference.bvl_products and reference.precursors; rows per table."""
    tables = {"bvl_products": bvl_register(bvl_export), "precursors": reference.precursors()}
    conn.execute("CREATE SCHEMA IF NOT EXISTS reference")
    for name, df in tables.items():
        conn.register("incoming", df.to_arrow())
        conn.execute(f"CREATE OR REPLACE TABLE reference.{name} AS SELECT * FROM incoming")
        conn.unregister("incoming")
    return {name: df.height for name, df in tables.items()}
