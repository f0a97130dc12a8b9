"""Small helpers for DuckDB connections used across the pipeline."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb
import polars as pl


@contextlib.contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: commit when the block ends, roll back when it raises (or is interrupted)."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def scalar(conn: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """The single value of a query, reading its result to the end (DuckDB wants results finished)."""
    rows = conn.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def fetch_frame(conn: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    return conn.sql(sql, params=params or None).pl()
