"""The resources every capability's assets use: the ERP source and the DuckDB warehouse.

The code location (`pipelines/`) binds them to the deployment's environment variables.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import dagster as dg
import duckdb
import sqlalchemy as sa
from pydantic import Field

from neuroerp import warehouse
from neuroerp.source.connection import RetryPolicy, check_source, with_source_retries
from neuroerp.source.database import create_source_engine, dialect_of

T = TypeVar("T")
ATTEMPTS_VAR = "NEUROERP_SOURCE_CONNECT_ATTEMPTS"
DELAY_VAR = "NEUROERP_SOURCE_RETRY_DELAY_S"


class ErpSource(dg.ConfigurableResource):
    """The ERP's operational database (PostgreSQL in production, SQLite for the embedded demo).

    A run that uses it first checks, once and before any step, that the source answers and accepts
    the login: an outage or a wrong password fails the run at once with one message that names the
    source and what to check. Transient connection failures (there and while reading) are retried
    with exponential backoff, `connect_attempts` tries in all.
    """

    url: str = Field(description="SQLAlchemy URL of the ERP source (NEUROERP_SOURCE_URL).")
    connect_attempts: int | None = Field(
        default=None,
        description=f"Tries in all when the connection fails or drops (default: {ATTEMPTS_VAR}, else 4).",
    )
    retry_delay_s: float | None = Field(
        default=None,
        description=f"Seconds before the first retry, doubling each time (default: {DELAY_VAR}, else 1).",
    )

    @property
    def dialect(self) -> str:
        return dialect_of(self.url)

    @property
    def retry(self) -> RetryPolicy:
        """Read when the run executes, so the environment of the run decides."""
        attempts = self.connect_attempts or int(os.environ.get(ATTEMPTS_VAR) or 4)
        delay = self.retry_delay_s if self.retry_delay_s is not None else float(os.environ.get(DELAY_VAR) or 1.0)
        return RetryPolicy(attempts=attempts, first_delay_s=delay)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.check(on_retry=context.log.warning if context.log else None)

    def check(self, on_retry: Callable[[str], None] | None = None) -> None:
        """Raise SourceUnavailable (the clear message) unless the source answers and accepts the login."""
        check_source(self.url, self.retry, on_retry=on_retry)

    def call(self, action: Callable[[], T], on_retry: Callable[[str], None] | None = None) -> T:
        """Run something that talks to the source, with the retries and the clear message."""
        return with_source_retries(self.url, action, self.retry, on_retry)

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
