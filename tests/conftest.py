"""Shared fixtures: a real PostgreSQL server, fresh databases, real SQLite files, demo data."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from neuroerp.devtools.postgres import throwaway_postgres
from neuroerp.seed.generator import Dataset, generate

AS_OF = dt.date(2026, 11, 26)
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


@pytest.fixture
def pg_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty database for one test; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'erp.sqlite'}"


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    """The demo ERP at test scale, generated once per session."""
    return generate(seed=SEED, scale=0.01, as_of=AS_OF)
