"""Reading contract tables from the source in batches.

PostgreSQL goes through the ADBC driver (binary COPY into Arrow), with explicit casts where ADBC
would otherwise guess (it hands numeric over as text, jsonb as an extension type): numeric as an
exact scaled int8 (turned into DECIMAL later, never a float), jsonb and uuid as text, timestamptz
as UTC instants. SQLite goes through the sqlite3 module and yields every
value as text, because SQLite's types are only suggestions: parsing (and its failures) happens in
one place, `neuroerp.ingest.parsing`.

PostgreSQL stores values the binary path cannot carry: `NaN` in any numeric (and `Infinity`, more
digits or more decimals where a source declares its numerics wider than the contract), `infinity`
and years beyond 9999 or before 1 in dates and timestamps. Converting them fails the whole query
(`cannot convert NaN to bigint`) or wraps around in the driver. Two reads:

- fast (clean data, the usual case): the plain casts, as long as the source declares its numerics
  as the contract does. A NaN fails the query, an instant or day outside the years 1 to 9999 shows
  in the batch's min/max (wrapped values land there too): either raises `UnloadableValues`, and
  the ingest reads the table again, guarded.
- guarded (a table that has rows in quarantine, a source declaring wider numerics, or after the
  fast read failed): each numeric cast is guarded (null instead of an error), and every value the
  binary path cannot carry comes as PostgreSQL prints it in one extra column, `__unloadable` (a
  JSON object: column -> text; null for clean rows); dates and instants it lists are nulled as soon
  as a batch arrives. Parsing turns the listed values into the row's quarantine reason.

A database in `SQL_ASCII` may hold text that is not UTF-8: its text columns are checked.
"""

from __future__ import annotations

import abc
import atexit
import contextlib
import datetime as dt
import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from neuroerp.contract import ColumnType, Table
from neuroerp.ingest.changes import Marks, columns_signature, xmin_condition
from neuroerp.ingest.types import quote
from neuroerp.source.connection import postgres_conninfo
from neuroerp.source.database import qualified_name

INVALID_UTF8 = "\x00invalid-utf8:"  # prefix of a text value whose bytes are not UTF-8 (then hex)
KEYS_TABLE = "neuroerp_refetch_keys"
UNLOADABLE = "__unloadable"  # PostgreSQL: {column: value as text} of values the binary path cannot carry
# the instants and days the binary path carries: the years 1 to 9999 (beyond, drivers wrap around)
TEMPORAL_RANGE = {
    ColumnType.TIMESTAMPTZ: ("'0001-01-01 00:00:00+00'", "'9999-12-31 23:59:59.999999+00'"),
    ColumnType.TIMESTAMP: ("'0001-01-01 00:00:00'", "'9999-12-31 23:59:59.999999'"),
    ColumnType.DATE: ("'0001-01-01'", "'9999-12-31'"),
}
_DECLARED_NUMERIC = re.compile(r"^numeric\((\d+),(\d+)\)$")
_FAST_READ_FAILED = re.compile(r"cannot convert (NaN|infinity) to bigint|bigint out of range", re.I)
_EPOCH = dt.datetime(1970, 1, 1)
# the same years as the driver hands them over: microseconds (instants) and days (dates) since 1970
_FAST_RANGE = {
    "us": ((dt.datetime(1, 1, 1) - _EPOCH) // dt.timedelta(microseconds=1),
           (dt.datetime(9999, 12, 31, 23, 59, 59, 999999) - _EPOCH) // dt.timedelta(microseconds=1)),
    "days": ((dt.date(1, 1, 1) - _EPOCH.date()).days, (dt.date(9999, 12, 31) - _EPOCH.date()).days),
}  # fmt: skip


class UnloadableValues(Exception):
    """The fast read met a value the binary path cannot carry: read the table again, guarded."""


@dataclass(frozen=True)
class Selection:
    """Which rows to read: all, or those past a watermark (or written since a transaction) plus
    listed keys (and keyless rows)."""

    full: bool = True
    watermark_column: str | None = None
    since: dt.datetime | int | None = None  # lower bound, inclusive
    refetch_keys: pl.DataFrame | None = None  # key columns as text
    changed_since: int | None = None  # PostgreSQL: rows whose xmin is at or past this xid8
    changed_until: int | None = None  # ... and before this one (None: up to now)


@dataclass(frozen=True)
class SourceFacts:
    """What the source says about a table before it is read."""

    marks: Marks | None = None  # None: no row versions to read by (SQLite, views, foreign tables)
    unique_key: bool = False  # a unique index guarantees one row per key: no duplicates to look for


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return INVALID_UTF8 + raw.hex()


class SourceReader(abc.ABC):
    """Common query building; subclasses know their driver and dialect.

    A source may lack the optional columns of a later contract version (1.1: an ERP not yet
    upgraded): they are selected as NULL, and `absent_columns` names them."""

    dialect: str

    @abc.abstractmethod
    def absent_columns(self, conn, spec: Table) -> tuple[str, ...]:
        """The optional columns of the contract that the source table lacks."""

    @abc.abstractmethod
    def select_list(self, spec: Table) -> str:
        """The SELECT list that casts every column as the parsing expects it."""

    def _where(self, spec: Table, selection: Selection) -> str:
        if selection.full:
            return "TRUE" if self.dialect == "postgresql" else "1"
        clauses = []
        if selection.changed_since is not None:
            clauses.append(xmin_condition(selection.changed_since, selection.changed_until))
        elif selection.since is not None and selection.watermark_column:
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

    def facts(self, conn, spec: Table) -> SourceFacts:
        """Nothing to tell by default: read by the change column, look for duplicate keys."""
        return SourceFacts()


class PostgresReader(SourceReader):
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self.uri = postgres_conninfo(url)

    @contextlib.contextmanager
    def connect(self):
        """A connection to the source, reused across tables (opening one costs about 0.1 s: the
        driver loads the server's type catalogue, a tenth of an incremental run's budget per table).

        A reused connection is checked with a round trip first and replaced when that fails (the
        server restarted, the network dropped it); it goes back to the pool only after a read that
        succeeded, with its transaction ended (an idle transaction would hold back the horizon
        the next read starts from, and VACUUM). A failed read closes it.
        """
        conn = _POOL.take(self.uri)
        try:
            yield conn
        except BaseException:
            with contextlib.suppress(Exception):
                conn.close()
            raise
        _POOL.give_back(self.uri, conn)

    def select_list(self, spec: Table, declared: dict[str, str] | None = None, guarded: bool = True) -> str:
        """`declared`: the source's own column types (format_type); without them every numeric is
        checked as if the source declared it wider than the contract. Unguarded (the fast read)
        only where every numeric is declared as the contract says."""
        absent = _absent(spec, declared)
        if not guarded and _numerics_as_contract(spec, declared or {}):
            return ", ".join(
                f"{_NULL_AS[c.type]} AS {quote(c.name)}" if c.name in absent else _plain(quote(c.name), c.type)
                for c in spec.columns
            )
        out, guards = [], []
        for c in spec.columns:
            name = quote(c.name)
            if c.name in absent:
                out.append(f"{_NULL_AS[c.type]} AS {name}")
                continue
            value, unloadable = _guarded(name, c.type, (declared or {}).get(c.name))
            out.append(f"{value} AS {name}")
            if unloadable:
                guards.append((c.name, name, unloadable))
        if guards:
            fields = ", ".join(f"'{col}', CASE WHEN {cond} THEN {name}::text END" for col, name, cond in guards)
            any_bad = " OR ".join(f"({cond})" for _, _, cond in guards)
            out.append(f"CASE WHEN {any_bad} THEN json_build_object({fields})::text END AS {UNLOADABLE}")
        else:
            out.append(f"NULL::text AS {UNLOADABLE}")
        return ", ".join(out)

    def facts(self, conn, spec: Table) -> SourceFacts:
        """Row-version marks (before anything is read: see `neuroerp.ingest.changes`) and whether a
        unique index guarantees the key. A view or foreign table has no xmin: no marks."""
        name = qualified_name(self.dialect, spec)
        keys = ", ".join(f"'{k}'" for k in spec.primary_key)
        with conn.cursor() as cur:
            cur.execute("SELECT pg_stat_clear_snapshot()::text")  # counts as of now, not cached
            cur.fetchall()
            cur.execute(_FACTS_SQL.format(name=name, keys=keys))
            row = cur.fetchone()
            kind, horizon, next_xid, standby, counting, started, reset, deletes, files, may_identify, unique = row
            system = None
            if may_identify:
                cur.execute("SELECT system_identifier::text FROM pg_control_system()")
                system = cur.fetchone()[0]
        if kind not in ("r", "p"):
            return SourceFacts(None, unique)
        marks = Marks(
            system=system,
            horizon=int(horizon),
            next_xid=int(next_xid),
            deletes=None if standby or not counting or deletes is None else int(deletes),
            stats_epoch=f"{started}|{reset}|{files}",
            columns=columns_signature(spec),
        )
        return SourceFacts(marks, unique)

    def declared(self, cur, spec: Table) -> tuple[dict[str, str], bool]:
        """The source's declared column types, and whether its text may be other than UTF-8."""
        cur.execute(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), current_setting('server_encoding') "
            f"FROM pg_attribute a WHERE a.attrelid = '{qualified_name(self.dialect, spec)}'::regclass "
            "AND a.attnum > 0 AND NOT a.attisdropped"
        )
        rows = cur.fetchall()
        encoding = rows[0][2] if rows else "UTF8"
        return {name: type_ for name, type_, _ in rows}, encoding == "SQL_ASCII"

    def absent_columns(self, conn, spec: Table) -> tuple[str, ...]:
        with conn.cursor() as cur:
            declared, _ = self.declared(cur, spec)
        return tuple(sorted(_absent(spec, declared)))

    def query(
        self, spec: Table, selection: Selection, declared: dict[str, str] | None = None, guarded: bool = True
    ) -> str:
        return (
            f"SELECT {self.select_list(spec, declared, guarded)} FROM {qualified_name(self.dialect, spec)} "
            f"WHERE {self._where(spec, selection)}"
        )

    def _since_clause(self, spec: Table, column: str, since: dt.datetime | int) -> str:
        if isinstance(since, int):
            return f"{quote(column)} >= {int(since)}"
        return f"{quote(column)} >= '{since.astimezone(dt.UTC).isoformat()}'::timestamptz"

    def _key_as_text(self, spec: Table, column: str) -> str:
        return f"{quote(column)}::text"

    def batches(
        self, conn, spec: Table, selection: Selection, batch_rows: int, guarded: bool = True
    ) -> Iterator[pl.DataFrame]:
        """Typed batches; unguarded (`guarded=False`) raises UnloadableValues at the first value
        the fast read cannot carry."""
        with conn.cursor() as cur:
            declared, unchecked_text = self.declared(cur, spec)
            fast = not guarded and _numerics_as_contract(spec, declared)
            self._load_keys(cur, spec, selection)
            if selection.changed_since is not None:
                # the planner takes each listed transaction id for 1/200 of the table, expects to
                # hand most of it over from parallel workers, and keeps the scan in one process
                # (which takes about 1.6 times as long on a large table, where few rows come back)
                cur.execute("SET LOCAL parallel_tuple_cost = 0")
            try:
                cur.execute(self.query(spec, selection, declared, guarded=not fast))
                for part in _rebatched(cur.fetch_record_batch(), batch_rows):
                    yield self._frame(spec, part, unchecked_text, fast)
            except Exception as exc:
                if fast and _FAST_READ_FAILED.search(str(exc)):
                    raise UnloadableValues(str(exc).strip().splitlines()[0]) from exc
                raise

    @staticmethod
    def _frame(
        spec: Table, batches: list[pa.RecordBatch], unchecked_text: bool = False, fast: bool = False
    ) -> pl.DataFrame:
        data = pa.Table.from_batches(batches)
        if fast:
            _check_fast_range(spec, data)
        else:
            data = _without_unloadable(spec, data)
        if unchecked_text:
            data = _mark_invalid_utf8(data)
        df = pl.from_arrow(data)
        # timestamptz arrives as naive UTC (see select_list): mark it as UTC
        return df.with_columns(
            pl.col(c.name).dt.replace_time_zone("UTC") for c in spec.columns if c.type is ColumnType.TIMESTAMPTZ
        )

    def _load_keys(self, cur, spec: Table, selection: Selection) -> None:
        if selection.full or selection.refetch_keys is None or selection.refetch_keys.height == 0:
            return
        keys = selection.refetch_keys.rename({k: f"k{i}" for i, k in enumerate(spec.primary_key)})
        cur.adbc_ingest(KEYS_TABLE, keys.cast(pl.String).to_arrow(), mode="replace", temporary=True)

    def keys(self, conn, spec: Table) -> pa.Table:
        """Every key of the table, as narrow Arrow columns of text (nothing else is read)."""
        cols = ", ".join(f"{self._key_as_text(spec, k)} AS {quote(k)}" for k in spec.primary_key)
        not_null = " AND ".join(f"{quote(k)} IS NOT NULL" for k in spec.primary_key)
        with conn.cursor() as cur:
            cur.execute(f"SELECT {cols} FROM {qualified_name(self.dialect, spec)} WHERE {not_null}")
            return cur.fetch_arrow_table()


class _ConnectionPool:
    """Idle ADBC connections of this process (a forked child opens its own), for the source read
    last: a process reads one source; connections to any other are closed when one is given back."""

    def __init__(self, keep: int = 2) -> None:
        self.keep = keep
        self.lock = threading.Lock()
        self.idle: dict[tuple[int, str], list] = {}

    def take(self, uri: str):
        import adbc_driver_postgresql.dbapi as adbc

        while True:
            with self.lock:
                idle = self.idle.get((os.getpid(), uri), [])
                conn = idle.pop() if idle else None
            if conn is None:
                return adbc.connect(uri)
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT 1")
                    cur.fetchall()
                return conn
            except Exception:  # dropped while idle: open another
                with contextlib.suppress(Exception):
                    conn.close()

    def give_back(self, uri: str, conn) -> None:
        try:
            conn.rollback()  # end the transaction the driver opened: nothing idles in it
        except Exception:
            with contextlib.suppress(Exception):
                conn.close()
            return
        key = (os.getpid(), uri)
        with self.lock:
            closing = [c for k, conns in self.idle.items() if k != key and k[0] == key[0] for c in conns]
            idle = self.idle.get(key, []) + [conn]
            # another process's connections (inherited by a fork) are left alone: closing them here
            # would end that process's sessions
            self.idle = {key: idle[-self.keep :]}
            closing += idle[: -self.keep]
        for c in closing:
            with contextlib.suppress(Exception):
                c.close()

    def close_all(self) -> None:
        with self.lock:
            conns = [c for (pid, _), idle in self.idle.items() if pid == os.getpid() for c in idle]
            self.idle.clear()
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()


_POOL = _ConnectionPool()
atexit.register(_POOL.close_all)


# One query: the snapshot (taken before the table is read), the delete counter summed over the
# table or its partitions with what it depends on (server start, statistics reset, each file), and
# whether a unique, valid, unconditional index covers only key columns.
_FACTS_SQL = """
SELECT c.relkind::text, pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text, pg_is_in_recovery(),
    current_setting('track_counts')::bool, pg_postmaster_start_time()::text,
    (SELECT stats_reset::text FROM pg_stat_database WHERE datname = current_database()),
    p.deletes, p.files, has_function_privilege('pg_control_system()', 'EXECUTE'),
    EXISTS (
        SELECT 1 FROM pg_index i
        WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
          AND (SELECT bool_and(a.attname::text = ANY (ARRAY[{keys}]))
               FROM unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) AS k(attnum)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum)
    )
FROM pg_class c
CROSS JOIN pg_current_snapshot() s
CROSS JOIN LATERAL (
    SELECT sum(pg_stat_get_tuples_deleted(r.oid))::text AS deletes,
           string_agg(r.oid::text || ':' || pg_relation_filenode(r.oid)::text, ',' ORDER BY r.oid) AS files
    FROM (SELECT c.oid WHERE c.relkind = 'r'
          UNION ALL SELECT relid FROM pg_partition_tree(c.oid) WHERE isleaf AND relid <> c.oid) AS r(oid)
) p
WHERE c.oid = '{name}'::regclass
"""


class SqliteReader(SourceReader):
    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        self.url = url
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

    def select_list(self, spec: Table, absent: tuple[str, ...] | frozenset[str] = ()) -> str:
        return ", ".join(
            f"NULL AS {quote(c.name)}" if c.name in absent else f"CAST({quote(c.name)} AS TEXT) AS {quote(c.name)}"
            for c in spec.columns
        )

    def absent_columns(self, conn, spec: Table) -> tuple[str, ...]:
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({quote(spec.name)})").fetchall()}
        return tuple(sorted(c.name for c in spec.columns if c.optional and c.name not in present))

    def query(self, spec: Table, selection: Selection, absent: tuple[str, ...] = ()) -> str:
        return f"SELECT {self.select_list(spec, absent)} FROM {qualified_name(self.dialect, spec)} WHERE {self._where(spec, selection)}"

    def _since_clause(self, spec: Table, column: str, since: dt.datetime | int) -> str:
        if isinstance(since, int):
            return f"{quote(column)} >= {int(since)}"
        # julianday() reads ISO text with offsets; text it cannot read is re-read (and quarantined) each run
        bound = since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        return f"julianday({quote(column)}) >= julianday('{bound}') OR julianday({quote(column)}) IS NULL"

    def batches(
        self, conn, spec: Table, selection: Selection, batch_rows: int, guarded: bool = True
    ) -> Iterator[pl.DataFrame]:
        """Every value as text: nothing the driver could fail on (`guarded` has nothing to do)."""
        self._load_keys(conn, spec, selection)
        cur = conn.execute(self.query(spec, selection, self.absent_columns(conn, spec)))
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


def _rebatched(batches, rows: int) -> Iterator[list[pa.RecordBatch]]:
    """The driver's record batches regrouped into parts of `rows` rows (the last one smaller);
    a batch larger than that is cut (slices share its memory)."""
    pending: list[pa.RecordBatch] = []
    size = 0
    for batch in batches:
        while batch.num_rows:
            take = min(rows - size, batch.num_rows)
            pending.append(batch.slice(0, take))
            batch = batch.slice(take)
            size += take
            if size == rows:
                yield pending
                pending, size = [], 0
    if pending:
        yield pending


def _declared_as_contract(type_: ColumnType, declared: str | None) -> bool:
    """A numeric declared with at most the contract's digits and decimals: NaN is the one value its
    cast cannot carry."""
    precision, scale = type_.numeric_precision
    found = _DECLARED_NUMERIC.match(declared or "")
    return bool(found) and int(found[1]) - int(found[2]) <= precision - scale and int(found[2]) <= scale


def _numerics_as_contract(spec: Table, declared: dict[str, str]) -> bool:
    absent = _absent(spec, declared)
    return all(
        _declared_as_contract(c.type, declared.get(c.name))
        for c in spec.columns
        if c.type.numeric_precision and c.name not in absent
    )


def _absent(spec: Table, declared: dict[str, str] | None) -> frozenset[str]:
    """The optional columns the source does not declare (None: the declaration is not known)."""
    if declared is None:
        return frozenset()
    return frozenset(c.name for c in spec.columns if c.optional and c.name not in declared)


# an absent optional column, as the fast and the guarded read type its values
_NULL_AS = {
    ColumnType.MONEY: "NULL::int8", ColumnType.QUANTITY: "NULL::int8", ColumnType.PERCENT: "NULL::int8",
    ColumnType.TIMESTAMPTZ: "NULL::timestamp", ColumnType.TIMESTAMP: "NULL::timestamp", ColumnType.DATE: "NULL::date",
    ColumnType.BOOL: "NULL::boolean", ColumnType.INT: "NULL::int4", ColumnType.BIGINT: "NULL::int8",
    ColumnType.TEXT: "NULL::text", ColumnType.JSON_TEXT: "NULL::text", ColumnType.UUID: "NULL::text",
    ColumnType.JSONB: "NULL::text",
}  # fmt: skip


def _plain(name: str, type_: ColumnType) -> str:
    """The fast read's expression: exact and cheap, numerics as int8 in units of their last digit
    (numeric(14,s) fits), turned back into DECIMAL(p,s) by parsing without passing through a float."""
    if type_.numeric_precision:
        return f"({name} * 1e{type_.numeric_precision[1]})::int8 AS {name}"
    if type_ in (ColumnType.UUID, ColumnType.JSONB):
        return f"{name}::text AS {name}"
    if type_ is ColumnType.TIMESTAMPTZ:
        return f"{name} AT TIME ZONE 'UTC' AS {name}"  # naive UTC: no session time zone games
    return name


def _check_fast_range(spec: Table, data: pa.Table) -> None:
    """A date or instant outside the years 1 to 9999 (wrapped-around infinity among them)."""
    for c in spec.columns:
        if c.type not in TEMPORAL_RANGE:
            continue
        column = data.column(c.name)
        as_int = column.cast(pa.int32() if c.type is ColumnType.DATE else pa.int64())
        lowest, highest = pc.min_max(as_int).values()
        low, high = _FAST_RANGE["days" if c.type is ColumnType.DATE else "us"]
        if lowest.is_valid and (lowest.as_py() < low or highest.as_py() > high):
            raise UnloadableValues(f"{c.name}: a value outside the years 1 to 9999")


def _guarded(name: str, type_: ColumnType, declared: str | None) -> tuple[str, str | None]:
    """The SELECT expression of one column, and the condition under which its value cannot be
    carried (None: every value can)."""
    if type_.numeric_precision:
        precision, scale = type_.numeric_precision
        if _declared_as_contract(type_, declared):
            # declared as the contract says (or narrower): NaN is the one value that does not fit
            return f"(NULLIF({name}, 'NaN') * 1e{scale})::int8", f"{name} = 'NaN'"
        # declared wider, unconstrained or as another type: also ±Infinity, too many digits or decimals
        value = f"{name}::numeric"
        bound = f"{10 ** (precision - scale) - 1}.{'9' * scale}" if scale else str(10**precision - 1)
        fits = f"{value} BETWEEN -{bound} AND {bound} AND {value} = trunc({value}, {scale})"
        return f"CASE WHEN {fits} THEN ({value} * 1e{scale})::int8 END", f"NOT ({fits})"
    if type_ in TEMPORAL_RANGE:
        # the driver carries such a value without failing (wrapped around): the flag column says which
        # to null before anything reads them (`_without_unloadable`); no second test per value here
        low, high = TEMPORAL_RANGE[type_]
        carried = f"{name} AT TIME ZONE 'UTC'" if type_ is ColumnType.TIMESTAMPTZ else name  # naive UTC
        return carried, f"NOT ({name} BETWEEN {low} AND {high})"
    if type_ in (ColumnType.UUID, ColumnType.JSONB):
        return f"{name}::text", None
    return name, None


def _without_unloadable(spec: Table, data: pa.Table) -> pa.Table:
    """Null the dates and instants the flag column lists (the driver wrapped them around); clean
    batches pass untouched."""
    flags = data.column(UNLOADABLE)
    if flags.null_count == len(flags):
        return data
    listed = [json.loads(f) if f is not None else {} for f in flags.to_pylist()]
    for c in spec.columns:
        if c.type not in TEMPORAL_RANGE:
            continue
        unloadable = pa.array([row.get(c.name) is not None for row in listed])
        if not any(unloadable.to_pylist()):
            continue
        i = data.schema.get_field_index(c.name)
        column = data.column(i)
        data = data.set_column(
            i, data.schema.field(i), pc.if_else(unloadable, pa.nulls(len(column), column.type), column)
        )
    return data


def _mark_invalid_utf8(data: pa.Table) -> pa.Table:
    """Text columns whose bytes are not all UTF-8 (possible in a SQL_ASCII database): mark those values."""
    for i, field in enumerate(data.schema):
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            continue
        column = data.column(i)
        try:
            column.validate(full=True)
        except pa.ArrowInvalid:
            raw = column.cast(pa.large_binary() if pa.types.is_large_string(field.type) else pa.binary())
            values = [None if v is None else _decode(v) for v in raw.to_pylist()]
            data = data.set_column(i, field, pa.array(values, field.type))
    return data


def reader_for(url: str) -> SourceReader:
    backend = sa.engine.make_url(url).get_backend_name()
    if backend == "postgresql":
        return PostgresReader(url)
    if backend == "sqlite":
        return SqliteReader(url)
    raise ValueError(f"no reader for {backend!r} sources")
