"""The ERP source as the pipeline found it: row counts per contract table, kept in the warehouse."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from neuroerp.contract import TABLES

PROFILE = "ops.source_profile"


def write_profile(conn: duckdb.DuckDBPyConnection, counts: dict[str, int], dialect: str, at: dt.datetime) -> None:
    """Replace ops.source_profile: one row per contract table (row_count null where not counted)."""
    profile = pl.DataFrame(
        {
            "domain": [t.domain for t in TABLES],
            "table_name": [t.name for t in TABLES],
            "row_count": [counts.get(t.name) for t in TABLES],
        },
        schema_overrides={"row_count": pl.Int64},
    ).with_columns(profiled_at=pl.lit(at), source_dialect=pl.lit(dialect))
    conn.execute("CREATE SCHEMA IF NOT EXISTS ops")
    conn.register("profile_rows", profile.to_arrow())
    conn.execute(f"CREATE OR REPLACE TABLE {PROFILE} AS SELECT * FROM profile_rows")
    conn.unregister("profile_rows")
