"""The DuckDB warehouse: opening it while other processes may hold it, and small query helpers."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl

LOCK_MESSAGES = ("Could not set lock", "Conflicting lock", "database is locked")


def open_with_retry(path: Path, read_only: bool = False, timeout_s: float = 600.0) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file, waiting (jittered backoff) while another process holds its lock.

    DuckDB admits one writing process per file, and the UI, schedules and the CLI may run at once:
    a second writer queues instead of failing.
    """
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if not any(m in str(exc) for m in LOCK_MESSAGES) or time.monotonic() > deadline:
                raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 2.0)


@contextlib.contextmanager
def connect(path: Path, read_only: bool = False, timeout_s: float = 600.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection to the warehouse file, closed when the block ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = open_with_retry(path, read_only=read_only, timeout_s=timeout_s)
    try:
        yield conn
    finally:
        conn.close()


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
