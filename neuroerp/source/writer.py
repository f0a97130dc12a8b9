"""Bulk writes of contract tables into a source: COPY on PostgreSQL, one transaction on SQLite."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable

import polars as pl
import sqlalchemy as sa

from neuroerp.contract import ColumnType, Table
from neuroerp.source.database import qualified_name

Advance = Callable[[int], None]
CHUNK_ROWS = 200_000


def to_contract_types(df: pl.DataFrame, spec: Table) -> pl.DataFrame:
    """Cast a frame to the contract's column types (money as exact decimals, UTC timestamps)."""
    exprs = []
    for c in spec.columns:
        col = pl.col(c.name)
        if c.type.numeric_precision:  # round before the decimal cast, which would truncate
            col = col.cast(pl.Float64).round(c.type.numeric_precision[1])
        exprs.append(col.cast(c.type.polars_type))
    return df.select(exprs)


def _sqlite_values(df: pl.DataFrame, spec: Table) -> pl.DataFrame:
    """The embedded source's storage forms (see `neuroerp.source.schema`)."""
    exprs = []
    for c in spec.columns:
        col = pl.col(c.name)
        match c.type:
            case ColumnType.TIMESTAMPTZ:
                exprs.append(col.dt.to_string("%Y-%m-%dT%H:%M:%S%.6f+00:00"))
            case ColumnType.TIMESTAMP:
                exprs.append(col.dt.to_string("%Y-%m-%d %H:%M:%S%.6f"))
            case ColumnType.DATE:
                exprs.append(col.dt.to_string("%Y-%m-%d"))
            case ColumnType.BOOL:
                exprs.append(col.cast(pl.Int8))
            case ColumnType.MONEY | ColumnType.QUANTITY | ColumnType.PERCENT:
                exprs.append(col.cast(pl.String))
            case _:
                exprs.append(col)
    return df.select(exprs)


def write_tables(
    engine: sa.Engine, tables: Iterable[tuple[Table, pl.DataFrame]], advance: Advance | None = None
) -> dict[str, int]:
    """Append frames (contract columns) to their source tables in one transaction.

    PostgreSQL gets binary-free CSV COPY (fast, and PostgreSQL parses uuid, jsonb and numeric
    itself); SQLite gets batched inserts of its storage forms. Returns rows written per table.
    """
    advance = advance or (lambda _n: None)
    postgres = engine.dialect.name == "postgresql"
    written: dict[str, int] = {}
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if not postgres:
            cur.execute("PRAGMA synchronous = OFF")
        for spec, df in tables:
            df = to_contract_types(df.select(spec.column_names), spec)
            write = _copy_postgres if postgres else _insert_sqlite
            for chunk in _chunks(df):
                write(cur, spec, chunk)
                advance(chunk.height)
            written[spec.name] = df.height
        raw.commit()
    except Exception:
        raw.rollback()
        raise
    finally:
        raw.close()
    return written


def _chunks(df: pl.DataFrame) -> Iterable[pl.DataFrame]:
    for offset in range(0, max(df.height, 1), CHUNK_ROWS):
        yield df.slice(offset, CHUNK_ROWS)


def _copy_postgres(cur, spec: Table, chunk: pl.DataFrame) -> None:
    columns = ", ".join(f'"{c}"' for c in spec.column_names)
    statement = f"COPY {qualified_name('postgresql', spec)} ({columns}) FROM STDIN (FORMAT csv, NULL '\\N')"
    buffer = io.BytesIO()
    chunk.write_csv(buffer, include_header=False, null_value="\\N")
    with cur.copy(statement) as copy:
        copy.write(buffer.getvalue())


def _insert_sqlite(cur, spec: Table, chunk: pl.DataFrame) -> None:
    placeholders = ", ".join("?" for _ in spec.columns)
    columns = ", ".join(f'"{c}"' for c in spec.column_names)
    cur.executemany(
        f"INSERT INTO {spec.name} ({columns}) VALUES ({placeholders})", _sqlite_values(chunk, spec).iter_rows()
    )
