"""DDL of the ERP source, generated from the contract for PostgreSQL and SQLite.

PostgreSQL gets one schema per domain; SQLite has no schemas, so every table lives in `main`
(table names are unique across the contract). Only keys are constrained: real ERP data is not
clean, and tests must be able to insert the bad rows that ingest has to survive.

SQLite has no native timestamps, decimals or booleans. The embedded source stores:
timestamptz as ISO-8601 text with an explicit offset, timestamp (outbox) as ISO text without one,
dates as `YYYY-MM-DD`, booleans as 0/1, numerics with NUMERIC affinity, JSON as text.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from neuroerp.contract import DOMAINS, TABLES, ColumnType, Table

_TEXT = sa.Text()


def _sa_type(type_: ColumnType) -> sa.types.TypeEngine:
    match type_:
        case ColumnType.TEXT | ColumnType.JSON_TEXT:
            return _TEXT
        case ColumnType.UUID:
            return sa.Text().with_variant(postgresql.UUID(as_uuid=False), "postgresql")
        case ColumnType.BOOL:
            return sa.Boolean(create_constraint=False)
        case ColumnType.INT:
            return sa.Integer()
        case ColumnType.BIGINT:
            return sa.BigInteger()
        case ColumnType.MONEY | ColumnType.QUANTITY | ColumnType.PERCENT:
            precision, scale = type_.numeric_precision
            return sa.Numeric(precision, scale, asdecimal=True)
        case ColumnType.TIMESTAMPTZ:
            return sa.DateTime(timezone=True)
        case ColumnType.TIMESTAMP:
            return sa.DateTime(timezone=False)
        case ColumnType.DATE:
            return sa.Date()
        case ColumnType.JSONB:
            return sa.Text().with_variant(postgresql.JSONB(), "postgresql")
    raise ValueError(f"no SQL type for {type_}")


def build_metadata(with_primary_keys: bool = True) -> sa.MetaData:
    """SQLAlchemy metadata of every contract table.

    `with_primary_keys=False` builds the tables without key constraints, as some ERP replicas
    and views are: then even duplicate keys can arrive.
    """
    metadata = sa.MetaData()
    for spec in TABLES:
        _add_table(metadata, spec, with_primary_keys)
    return metadata


def _add_table(metadata: sa.MetaData, spec: Table, with_primary_keys: bool) -> sa.Table:
    columns = [
        sa.Column(
            c.name,
            _sa_type(c.type),
            nullable=not (with_primary_keys and c.name in spec.primary_key),
        )
        for c in spec.columns
    ]
    constraints = [sa.PrimaryKeyConstraint(*spec.primary_key)] if with_primary_keys else []
    return sa.Table(spec.name, metadata, *columns, *constraints, schema=spec.domain, comment=spec.description)


METADATA = build_metadata()

# SQLite keeps all tables in `main`: map every domain schema away.
SQLITE_SCHEMA_MAP: dict[str | None, str | None] = {domain: None for domain in DOMAINS}
