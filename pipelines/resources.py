"""Resources: the ERP source and the DuckDB warehouse, configured from the environment."""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import sqlalchemy as sa
from pydantic import Field

from neuroerp.source.database import create_source_engine, dialect_of

LOCK_MESSAGES = ("Could not set lock", "Conflicting lock", "database is locked")


class ErpSource(dg.ConfigurableResource):
    """The ERP's operational database (PostgreSQL in production, SQLite for the embedded demo)."""

    url: str = Field(description="SQLAlchemy URL of the ERP source (NEUROERP_SOURCE_URL).")

    @property
    def dialect(self) -> str:
        return dialect_of(self.url)

    @contextlib.contextmanager
    def engine(self) -> Iterator[sa.Engine]:
        engine = create_source_engine(self.url)
        try:
            yield engine
        finally:
            engine.dispose()


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse under NEUROERP_HOME.

    DuckDB admits one writing process per file, and the UI, schedules, sensors and the CLI may run
    at once. So connections are short-lived and opening one waits (with jittered backoff) while
    another process holds the file, instead of failing the run.
    """

    home: str = Field(description="Data folder of the service (NEUROERP_HOME).")
    lock_timeout_s: float = Field(default=600.0, description="How long to wait for another writer.")

    @property
    def path(self) -> Path:
        return Path(self.home) / "warehouse.duckdb"

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = open_with_retry(self.path, read_only=read_only, timeout_s=self.lock_timeout_s)
        for name, value in rule_variables().items():  # read by compliance.settings
            conn.execute(f"SET VARIABLE {name} = ?", [value])
        try:
            yield conn
        finally:
            conn.close()


def rule_variables() -> dict[str, str]:
    """DuckDB variables for the compliance settings: NEUROERP_AS_OF and NEUROERP_COMPLIANCE_<NAME>."""
    out = {}
    if os.environ.get("NEUROERP_AS_OF"):
        out["as_of"] = os.environ["NEUROERP_AS_OF"]
    for key, value in os.environ.items():
        if key.startswith("NEUROERP_COMPLIANCE_") and value:
            out[key.removeprefix("NEUROERP_COMPLIANCE_").lower()] = value
    return out


def open_with_retry(path: Path, read_only: bool = False, timeout_s: float = 600.0) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file, waiting while another process holds its lock."""
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
