"""Shared fixtures: a real PostgreSQL server, fresh databases, real SQLite files, demo data."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from neuroerp.devtools.postgres import throwaway_postgres
from neuroerp.seed.generator import Dataset, generate

AS_OF = dt.date(2026, 11, 20)  # in the past: the data ends before the real clock
SEED = 7


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """An admin URL of a PostgreSQL 15 server: NEUROERP_TEST_PG_URL, or a throw-away one."""
    given = os.environ.get("NEUROERP_TEST_PG_URL")
    if given:
        yield given
        return
    with throwaway_postgres() as server:
        yield server.url


@contextlib.contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the server; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty database for one test."""
    with fresh_database(postgres_admin_url) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'erp.sqlite'}"


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    """The demo ERP at test scale, generated once per session."""
    return generate(seed=SEED, scale=0.01, as_of=AS_OF)
