"""Fixtures for ingest tests: seeded sources, a warehouse file, row comparison helpers."""

import datetime as dt
import json
import uuid
from decimal import Decimal

import duckdb
import pytest
import sqlalchemy as sa

from neuroerp.contract import ColumnType, Table, load_order
from neuroerp.ingest import IngestOptions, ingest_table, reader_for
from neuroerp.seed import seed_source
from neuroerp.source.database import create_source_engine, qualified_name
from tests.conftest import AS_OF, SEED


@pytest.fixture
def seeded_pg(pg_url) -> str:
    seed_source(pg_url, scale=0.01, seed=SEED, as_of=AS_OF, create_schema=True)
    return pg_url


@pytest.fixture
def seeded_sqlite(sqlite_url) -> str:
    seed_source(sqlite_url, scale=0.01, seed=SEED, as_of=AS_OF, create_schema=True)
    return sqlite_url


@pytest.fixture
def warehouse(tmp_path):
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield conn
    conn.close()


def ingest_all(url: str, conn, **options) -> dict:
    reader = reader_for(url)
    opts = IngestOptions(**options)
    return {spec.name: ingest_table(reader, conn, spec, opts) for spec in load_order()}


def _norm(value, type_: ColumnType):
    if value is None:
        return None
    if type_ is ColumnType.UUID:
        return str(uuid.UUID(str(value)))
    if type_ is ColumnType.JSONB:
        return json.dumps(value if not isinstance(value, str) else json.loads(value), sort_keys=True)
    if type_ in (ColumnType.MONEY, ColumnType.QUANTITY, ColumnType.PERCENT):
        scale = type_.numeric_precision[1]
        return Decimal(str(value)).quantize(Decimal(1).scaleb(-scale))
    if type_ is ColumnType.TIMESTAMPTZ:
        assert value.tzinfo is not None, "timestamptz without a zone"
        return value.astimezone(dt.UTC)
    return value


def normalised(rows, spec: Table) -> list[tuple]:
    return sorted(
        (tuple(_norm(v, c.type) for v, c in zip(row, spec.columns, strict=True)) for row in rows),
        key=lambda r: tuple(str(v) for v in r),
    )


def source_rows(url: str, spec: Table) -> list[tuple]:
    """The source table through SQLAlchemy/psycopg: a different path than the ingest's ADBC."""
    engine = create_source_engine(url)
    cols = ", ".join(f'"{c}"' for c in spec.column_names)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT {cols} FROM {qualified_name(engine.dialect.name, spec)}")).all()
    engine.dispose()
    return normalised(rows, spec)


def raw_rows(conn, spec: Table) -> list[tuple]:
    cols = ", ".join(f'"{c}"' for c in spec.column_names)
    return normalised(conn.execute(f"SELECT {cols} FROM raw.{spec.name}").fetchall(), spec)


def execute(url: str, *statements: str, params: dict | None = None) -> None:
    """Run statements in one transaction at the source, as the ERP would.

    PostgreSQL reports a session's row counts (which tell the ingest that rows were deleted) when
    the session goes idle: within a second, or ten when it had reported less than a second
    before. The session here asks for that report at once, so a test does not wait for it.
    """
    engine = create_source_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement), params or {})
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_stat_force_next_flush()"))
    engine.dispose()
