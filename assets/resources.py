"""The resources every capability's assets use: the ERP source and the DuckDB warehouse.

The code location (`pipelines/`) binds them to the deployment's environment variables.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import sqlalchemy as sa
from pydantic import Field

from neuroerp import warehouse
from neuroerp.source.database import create_source_engine, dialect_of


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

    DuckDB admits one writing process per file, and the UI, schedules and the CLI may run at once.
    So connections are short-lived and opening one waits (with jittered backoff) while another
    process holds the file, instead of failing the run.
    """

    home: str = Field(description="Data folder of the service (NEUROERP_HOME).")
    lock_timeout_s: float = Field(default=600.0, description="How long to wait for another writer.")

    @property
    def path(self) -> Path:
        return Path(self.home) / "warehouse.duckdb"

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse.connect(self.path, read_only=read_only, timeout_s=self.lock_timeout_s) as conn:
            yield conn
