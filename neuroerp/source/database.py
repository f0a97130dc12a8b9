"""Connections to an ERP source database (PostgreSQL or the embedded SQLite demo source)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from neuroerp.contract import DOMAINS, TABLES, Table
from neuroerp.source.connection import CONNECT_TIMEOUT_S
from neuroerp.source.schema import SQLITE_SCHEMA_MAP, build_metadata


class SourceError(RuntimeError):
    """The source database cannot be used as an ERP source."""


def dialect_of(url: str) -> str:
    name = sa.engine.make_url(url).get_backend_name()
    if name not in ("postgresql", "sqlite"):
        raise SourceError(f"unsupported ERP source {name!r}: use postgresql+psycopg:// or sqlite:///")
    return name


def create_source_engine(url: str) -> sa.Engine:
    """An engine on the source; for SQLite the domain schemas map onto `main`."""
    dialect = dialect_of(url)
    if dialect == "sqlite":
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url)
        return engine.execution_options(schema_translate_map=SQLITE_SCHEMA_MAP)
    # a host that drops packets fails after the timeout instead of hanging the run
    timeout = {} if "connect_timeout" in sa.engine.make_url(url).query else {"connect_timeout": CONNECT_TIMEOUT_S}
    return sa.create_engine(url, pool_pre_ping=True, connect_args=timeout)


def qualified_name(dialect: str, spec: Table) -> str:
    """How raw SQL names a contract table on that dialect."""
    return spec.name if dialect == "sqlite" else f"{spec.domain}.{spec.name}"


def create_schema(engine: sa.Engine, with_primary_keys: bool = True) -> None:
    """Create the domain schemas and every contract table that does not exist yet."""
    metadata = build_metadata(with_primary_keys=with_primary_keys)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for domain in DOMAINS:
                conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{domain}"'))
        metadata.create_all(conn, checkfirst=True)


def missing_tables(engine: sa.Engine) -> list[str]:
    """Contract tables (`domain.table`) the source lacks."""
    inspector = sa.inspect(engine)
    if engine.dialect.name == "sqlite":
        present = set(inspector.get_table_names())
        return [t.qualified_name for t in TABLES if t.name not in present]
    missing = []
    for domain in DOMAINS:
        present = set(inspector.get_table_names(schema=domain)) if inspector.has_schema(domain) else set()
        missing += [t.qualified_name for t in TABLES if t.domain == domain and t.name not in present]
    return missing


def contract_deviations(engine: sa.Engine) -> list[str]:
    """What keeps the source from following the contract: missing tables and missing columns.

    The optional columns of later contract versions (1.1) are no deviation: a source may lack them."""
    inspector = sa.inspect(engine)
    problems = [f"missing table {name}" for name in missing_tables(engine)]
    absent = {p.split()[-1] for p in problems}
    for t in TABLES:
        if t.qualified_name in absent:
            continue
        schema = None if engine.dialect.name == "sqlite" else t.domain
        present = {c["name"] for c in inspector.get_columns(t.name, schema=schema)}
        lacking = [c.name for c in t.columns if c.name not in present and not c.optional]
        if lacking:
            problems.append(f"{t.qualified_name} lacks columns {', '.join(lacking)}")
    return problems


def row_counts(engine: sa.Engine) -> dict[str, int]:
    """Row count of every contract table."""
    dialect = engine.dialect.name
    with engine.connect() as conn:
        return {
            t.name: conn.execute(sa.text(f"SELECT count(*) FROM {qualified_name(dialect, t)}")).scalar_one()
            for t in TABLES
        }


def truncate_all(engine: sa.Engine) -> None:
    """Empty every contract table (demo data replacement)."""
    dialect = engine.dialect.name
    with engine.begin() as conn:
        if dialect == "postgresql":
            names = ", ".join(qualified_name(dialect, t) for t in TABLES)
            conn.execute(sa.text(f"TRUNCATE {names}"))
        else:
            for t in TABLES:
                conn.execute(sa.text(f"DELETE FROM {t.name}"))
