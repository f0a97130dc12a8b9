"""Reading contract tables from the source in batches.

PostgreSQL goes through the ADBC driver (binary COPY into Arrow), with explicit casts where ADBC
would otherwise guess (it hands numeric over as text, jsonb as an extension type): numeric as an
exact scaled int8 (turned into DECIMAL later, never a float), jsonb and uuid as text, timestamptz
as UTC instants. SQLite goes through the sqlite3 module and yields every
value as text, because SQLite's types are only suggestions: parsing (and its failures) happens in
one place, `neuroerp.ingest.parsing`.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
import sqlalchemy as sa

from neuroerp.contract import ColumnType, Table
from neuroerp.ingest.types import quote
from neuroerp.source.database import qualified_name

INVALID_UTF8 = "\x00invalid-utf8:"  # prefix of a text value whose bytes are not UTF-8 (then hex)
KEYS_TABLE = "neuroerp_refetch_keys"


@dataclass(frozen=True)
class Selection:
    """Which rows to read: all, or those past a watermark plus listed keys (and keyless rows)."""

    full: bool = True
    watermark_column: str | None = None
    since: dt.datetime | int | None = None  # lower bound, inclusive
    refetch_keys: pl.DataFrame | None = None  # key columns as text


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return INVALID_UTF8 + raw.hex()


class SourceReader(abc.ABC):
    """Common query building; subclasses know their driver and dialect."""

    dialect: str

    @abc.abstractmethod
    def select_list(self, spec: Table) -> str:
        """The SELECT list that casts every column as the parsing expects it."""

    def _where(self, spec: Table, selection: Selection) -> str:
        if selection.full:
            return "TRUE" if self.dialect == "postgresql" else "1"
        clauses = []
        if selection.since is not None and selection.watermark_column:
            clauses.append(self._since_clause(spec, selection.watermark_column, selection.since))
        if selection.refetch_keys is not None and selection.refetch_keys.height:
            cols = ", ".join(self._key_as_text(spec, k) for k in spec.primary_key)
            keys = ", ".join(f"k{i}" for i in range(len(spec.primary_key)))
            clauses.append(f"({cols}) IN (SELECT {keys} FROM {KEYS_TABLE})")
        clauses.append(" OR ".join(f"{quote(k)} IS NULL" for k in spec.primary_key))
        return " OR ".join(f"({c})" for c in clauses)

    def _key_as_text(self, spec: Table, column: str) -> str:
        return f"CAST({quote(column)} AS TEXT)"

    @abc.abstractmethod
    def _since_clause(self, spec: Table, column: str, since: dt.datetime | int) -> str:
        """The condition for rows at or past the watermark."""

    def query(self, spec: Table, selection: Selection) -> str:
        return f"SELECT {self.select_list(spec)} FROM {qualified_name(self.dialect, spec)} WHERE {self._where(spec, selection)}"


class PostgresReader(SourceReader):
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        parsed = sa.engine.make_url(url)
        self.uri = parsed.set(drivername="postgresql").render_as_string(hide_password=False)

    @contextlib.contextmanager
    def connect(self):
        import adbc_driver_postgresql.dbapi as adbc

        conn = adbc.connect(self.uri)
        try:
            yield conn
        finally:
            conn.close()

    def select_list(self, spec: Table) -> str:
        out = []
        for c in spec.columns:
            name = quote(c.name)
            if c.type.numeric_precision:
                # exact and cheap: the value in units of its last digit, as int8 (numeric(14,s) fits);
                # parsing turns it back into DECIMAL(p,s) without ever passing through a float
                out.append(f"({name} * 1e{c.type.numeric_precision[1]})::int8 AS {name}")
            elif c.type in (ColumnType.UUID, ColumnType.JSONB):
                out.append(f"{name}::text AS {name}")
            elif c.type is ColumnType.TIMESTAMPTZ:
                out.append(f"{name} AT TIME ZONE 'UTC' AS {name}")  # naive UTC: no session time zone games
            else:
                out.append(name)
        return ", ".join(out)

    def _since_clause(self, spec: Table, column: str, since: dt.datetime | int) -> str:
        if isinstance(since, int):
            return f"{quote(column)} >= {int(since)}"
        return f"{quote(column)} >= '{since.astimezone(dt.UTC).isoformat()}'::timestamptz"

    def _key_as_text(self, spec: Table, column: str) -> str:
        return f"{quote(column)}::text"

    def batches(self, conn, spec: Table, selection: Selection, batch_rows: int) -> Iterator[pl.DataFrame]:
        with conn.cursor() as cur:
            self._load_keys(cur, spec, selection)
            cur.execute(self.query(spec, selection))
            reader = cur.fetch_record_batch()
            pending: list[pa.RecordBatch] = []
            size = 0
            for batch in reader:
                pending.append(batch)
                size += batch.num_rows
                if size >= batch_rows:
                    yield self._frame(spec, pending)
                    pending, size = [], 0
            if pending:
                yield self._frame(spec, pending)

    @staticmethod
    def _frame(spec: Table, batches: list[pa.RecordBatch]) -> pl.DataFrame:
        df = pl.from_arrow(pa.Table.from_batches(batches))
        # timestamptz arrives as naive UTC (see select_list): mark it as UTC
        return df.with_columns(
            pl.col(c.name).dt.replace_time_zone("UTC") for c in spec.columns if c.type is ColumnType.TIMESTAMPTZ
        )

    def _load_keys(self, cur, spec: Table, selection: Selection) -> None:
        if selection.full or selection.refetch_keys is None or selection.refetch_keys.height == 0:
            return
        keys = selection.refetch_keys.rename({k: f"k{i}" for i, k in enumerate(spec.primary_key)})
        cur.adbc_ingest(KEYS_TABLE, keys.cast(pl.String).to_arrow(), mode="replace", temporary=True)

    def keys(self, conn, spec: Table) -> pl.DataFrame:
        cols = ", ".join(f"{self._key_as_text(spec, k)} AS {quote(k)}" for k in spec.primary_key)
        not_null = " AND ".join(f"{quote(k)} IS NOT NULL" for k in spec.primary_key)
        with conn.cursor() as cur:
            cur.execute(f"SELECT {cols} FROM {qualified_name(self.dialect, spec)} WHERE {not_null}")
            return pl.from_arrow(cur.fetch_arrow_table())


class SqliteReader(SourceReader):
    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        self.path = sa.engine.make_url(url).database

    @contextlib.contextmanager
    def connect(self):
        # read by the ingest's reader thread, opened by the main thread
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        conn.text_factory = _decode
        try:
            yield conn
        finally:
            conn.close()

    def select_list(self, spec: Table) -> str:
        return ", ".join(f"CAST({quote(c.name)} AS TEXT) AS {quote(c.name)}" for c in spec.columns)

    def _since_clause(self, spec: Table, column: str, since: dt.datetime | int) -> str:
        if isinstance(since, int):
            return f"{quote(column)} >= {int(since)}"
        # julianday() reads ISO text with offsets; text it cannot read is re-read (and quarantined) each run
        bound = since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        return f"julianday({quote(column)}) >= julianday('{bound}') OR julianday({quote(column)}) IS NULL"

    def batches(self, conn, spec: Table, selection: Selection, batch_rows: int) -> Iterator[pl.DataFrame]:
        self._load_keys(conn, spec, selection)
        cur = conn.execute(self.query(spec, selection))
        schema = {c.name: pl.String for c in spec.columns}
        while rows := cur.fetchmany(batch_rows):
            yield pl.DataFrame(rows, schema=schema, orient="row")

    def _load_keys(self, conn, spec: Table, selection: Selection) -> None:
        if selection.full or selection.refetch_keys is None or selection.refetch_keys.height == 0:
            return
        cols = ", ".join(f"k{i}" for i in range(len(spec.primary_key)))
        conn.execute(f"DROP TABLE IF EXISTS temp.{KEYS_TABLE}")
        conn.execute(f"CREATE TEMP TABLE {KEYS_TABLE} ({cols})")
        placeholders = ", ".join("?" for _ in spec.primary_key)
        conn.executemany(f"INSERT INTO {KEYS_TABLE} VALUES ({placeholders})", selection.refetch_keys.iter_rows())

    def keys(self, conn, spec: Table) -> pl.DataFrame:
        cols = ", ".join(f"CAST({quote(k)} AS TEXT)" for k in spec.primary_key)
        not_null = " AND ".join(f"{quote(k)} IS NOT NULL" for k in spec.primary_key)
        rows = conn.execute(f"SELECT {cols} FROM {spec.name} WHERE {not_null}").fetchall()
        return pl.DataFrame(rows, schema={k: pl.String for k in spec.primary_key}, orient="row")


def reader_for(url: str) -> SourceReader:
    backend = sa.engine.make_url(url).get_backend_name()
    if backend == "postgresql":
        return PostgresReader(url)
    if backend == "sqlite":
        return SqliteReader(url)
    raise ValueError(f"no reader for {backend!r} sources")
