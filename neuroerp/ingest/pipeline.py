"""Ingest one contract table: extract what changed, type it, validate it, apply it.

Modes (see `neuroerp.ingest.changes` for how a run decides):
- full: the first run, `full_refresh`, a source that cannot say what changed (SQLite tables
  without a change marker), a new contract version of the table.
- incremental: PostgreSQL tables: rows written since the horizon of the last read (`xmin`), tables
  without a change marker included; SQLite: rows at or past the watermark minus an overlap window
  (commits land out of order). Plus the keys that need another look: quarantined rows (fixed at
  the source? parent arrived?) and, when keys are compared, keys the source has that the warehouse
  lacks. Comparing every key finds hard deletes; on PostgreSQL it runs only when the table's
  delete statistics moved, and on a slower cadence as a safety net.
Every row read ends up exactly once either in raw or in quarantine; the run record says so.

The stages overlap: a thread reads the next batches from the source while this one is typed and
validated, and another thread writes the previous one into DuckDB. A run of a table is one DuckDB
transaction.

A connection to the source that fails or drops while a table is read is retried with backoff
(`IngestOptions.retry`): the table's read starts over, nothing of the failed attempt is kept. When
the retries are spent the run fails with one `SourceUnavailable` that says which source and what
to check.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import duckdb
import polars as pl

from neuroerp.contract import ColumnType, Table, TableKind
from neuroerp.ingest.changes import Plan, plan
from neuroerp.ingest.parsing import ROW, parse
from neuroerp.ingest.readers import UNLOADABLE, Selection, SourceReader, UnloadableValues
from neuroerp.ingest.store import MAX_QUARANTINED_VALUE, IngestStore, Outcome
from neuroerp.ingest.types import key_text_expr
from neuroerp.ingest.validation import find_problems, table_validator
from neuroerp.source.connection import RetryPolicy, with_source_retries
from neuroerp.warehouse import scalar, transaction


@dataclass(frozen=True)
class IngestOptions:
    batch_rows: int = 200_000
    overlap: dt.timedelta = dt.timedelta(minutes=10)  # SQLite: how late a commit may land behind its updated_at
    seq_overlap: int = 10_000  # the same for audit_log.seq
    reconcile: bool = True  # compare keys to find hard deletes (when the source may have deleted rows)
    reconcile_every: dt.timedelta = dt.timedelta(hours=24)  # and at least this often, whatever it says
    full_refresh: bool = False
    stage_on_disk_rows: int = 500_000  # a full read of a larger table stages on disk, not in memory
    retry: RetryPolicy = RetryPolicy()  # when the source connection fails or drops


@dataclass
class IngestStats:
    table: str
    mode: str
    rows_read: int
    rows_ok: int
    rows_quarantined: int
    rows_upserted: int
    rows_deleted: int
    watermark: dt.datetime | int | None
    seconds: float
    reasons: dict[str, int] = field(default_factory=dict)  # quarantined rows of this run by first reason
    marker: str = ""  # what the run read by: xmin, a change column, or none (whole)
    keys_compared: bool = False  # every key compared with the source (finds hard deletes)
    why: str = ""  # why the run read what it read, and why it compared keys
    absent_columns: tuple[str, ...] = ()  # optional contract columns the source lacks: read as null

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_ok + self.rows_quarantined


def ingest_table(
    reader: SourceReader,
    conn: duckdb.DuckDBPyConnection,
    spec: Table,
    options: IngestOptions = IngestOptions(),
    now: dt.datetime | None = None,
    on_retry: Callable[[str], None] | None = None,
) -> IngestStats:
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC)
    now = now or started_at
    store = IngestStore(conn, spec)
    state = store.open()
    schema = functools.cache(lambda: table_validator(spec, now))  # built when a row arrives
    was_absent = store.was_absent
    absent: tuple[str, ...] = ()

    def read(guarded: bool) -> tuple[int, str, Outcome, object, dict[str, int]]:
        nonlocal absent
        rows_read = 0
        with reader.connect() as source:
            facts = reader.facts(source, spec)  # before anything is read: the horizon of this read
            # an optional column the source lacked and now has: the rows read before hold nulls for
            # it, so the whole table is read again
            absent = reader.absent_columns(source, spec)
            newly_present = bool(set(was_absent) - set(absent))
            how = plan(
                spec, loaded=state.loaded, watermark=state.watermark, previous=state.marks, current=facts.marks,
                reconciled_at=state.reconciled_at, now=now, full_refresh=options.full_refresh or newly_present,
                reconcile=options.reconcile, reconcile_every=options.reconcile_every,
            )  # fmt: skip
            # read whole: tables without a change marker have no watermark to carry
            watermark = None if spec.kind is TableKind.SNAPSHOT else state.watermark
            # a full read of a large table stages on disk; anything else in memory
            large = how.full and scalar(conn, f"SELECT count(*) FROM raw.{spec.name}") > options.stage_on_disk_rows
            try:
                with transaction(conn):
                    store.start(first_load=not state.loaded, large_read=large)
                    selection = Selection(full=True)
                    if not how.full:
                        refetch = store.quarantined_keys()
                        if how.reconcile:
                            behind = store.reconcile(reader.keys(source, spec))
                            refetch = pl.concat([refetch, behind]).unique()
                        selection = _incremental(spec, state.watermark, options, refetch, how)
                    batches = reader.batches(source, spec, selection, options.batch_rows, guarded)
                    with _prefetched(batches) as frames, _written_behind(store) as write:
                        for frame in frames:
                            rows_read += frame.height
                            ok, bad = _split(spec, schema(), frame)
                            write(ok, bad)
                            watermark = _advance(spec, watermark, ok, now)  # bad rows are read again anyway
                    store.screen(unique_key=facts.unique_key)
                    if how.full and state.loaded:
                        store.mark_unseen_deleted()
                    compared = how.full or how.reconcile
                    outcome = Outcome(
                        watermark=watermark,
                        marks=facts.marks,
                        reconciled_at=started_at if compared else state.reconciled_at,
                        marker=how.marker,
                        keys_compared=compared,
                        why="; ".join(filter(None, [how.why, how.reconcile_why])),
                    )
                    mode = "full" if how.full else "incremental"
                    applied = store.apply(mode, started_at, outcome, rows_read, absent=absent)
                    reasons = store.quarantine_reasons() if applied.rows_quarantined else {}
            finally:
                store.drop_scratch()
        return rows_read, mode, outcome, applied, reasons

    def attempt() -> tuple[int, str, Outcome, object, dict[str, int]]:
        # the fast read for clean tables; guarded where rows wait in quarantine (they come back each
        # run) or once the fast read met a value it cannot carry
        try:
            return read(guarded=store.quarantined)
        except UnloadableValues:
            return read(guarded=True)

    rows_read, mode, outcome, applied, reasons = with_source_retries(reader.url, attempt, options.retry, on_retry)
    return IngestStats(
        table=spec.name,
        mode=mode,
        rows_read=rows_read,
        rows_ok=applied.rows_ok,
        rows_quarantined=applied.rows_quarantined,
        rows_upserted=applied.rows_upserted,
        rows_deleted=applied.rows_deleted,
        watermark=outcome.watermark,
        seconds=time.perf_counter() - started,
        reasons=reasons,
        marker=outcome.marker,
        keys_compared=outcome.keys_compared,
        why=outcome.why,
        absent_columns=absent,
    )


def _split(spec: Table, schema, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Typed good rows, and the bad rows as read (key, every reason, the row as JSON)."""
    typed, problems = parse(spec, frame)
    problems = _merge_problems(problems, find_problems(schema, spec, typed))
    if problems.height == 0:
        return typed.drop(ROW), None
    bad_rows = problems.group_by(ROW).agg(reasons=pl.col("reason").str.join("; ")).sort(ROW)
    ok = typed.join(bad_rows, on=ROW, how="anti").drop(ROW)
    positions = bad_rows[ROW]
    read = frame[positions]
    shown = _as_read(spec, read, typed[positions])
    bad = pl.DataFrame(
        {
            "source_pk": read.select(key_text_expr(spec)).to_series(),
            "reasons": bad_rows["reasons"],
            "row_json": shown.select(
                pl.struct(_capped(pl.col(n)).alias(n) for n in shown.columns).struct.json_encode()
            ).to_series(),
            "row_json_full": shown.select(pl.struct(pl.all()).struct.json_encode()).to_series(),
        }
    )
    return ok, bad


def _as_read(spec: Table, read: pl.DataFrame, typed: pl.DataFrame) -> pl.DataFrame:
    """Every value of the rows as text, as the source holds it: what was read where it was text,
    the exact decimal where the driver handed over a scaled integer, and PostgreSQL's own text
    where the binary path could not carry the value (NaN, infinity)."""
    columns = {}
    for c in spec.columns:
        if read.schema[c.name] == pl.String:
            value = read[c.name]
        elif c.type.numeric_precision:
            value = typed[c.name].cast(pl.String)
        else:
            value = read[c.name].cast(pl.String)
        if UNLOADABLE in read.columns:
            original = read[UNLOADABLE].str.json_path_match(f"$.{c.name}")
            value = original.fill_null(value)
        columns[c.name] = value
    return pl.DataFrame(columns, schema={c.name: pl.String for c in spec.columns})


def _capped(value: pl.Expr) -> pl.Expr:
    length = value.str.len_chars()
    cut = pl.format("{}… [cut: {} characters in all]", value.str.slice(0, MAX_QUARANTINED_VALUE), length)
    return pl.when(length > MAX_QUARANTINED_VALUE).then(cut).otherwise(value)


_DONE = object()


@contextlib.contextmanager
def _prefetched(batches: Iterator[pl.DataFrame], depth: int = 2) -> Iterator[Iterator[pl.DataFrame]]:
    """Read the next batches in a thread while this one is processed (the drivers release the GIL).

    When the block ends early (an error while processing), the reader thread is told to stop and
    waited for, so the source connection is never closed under a running read.
    """
    handover: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                if stop.is_set():
                    return
                handover.put(batch)
            handover.put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            handover.put(exc)
        finally:
            close = getattr(batches, "close", None)
            if close:
                close()

    def consume() -> Iterator[pl.DataFrame]:
        while (item := handover.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item

    thread = threading.Thread(target=produce, name="ingest-reader", daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        while thread.is_alive():  # let a producer blocked on a full queue see the stop
            with contextlib.suppress(queue.Empty):
                handover.get_nowait()
            thread.join(0.05)


@contextlib.contextmanager
def _written_behind(
    store: IngestStore, depth: int = 2
) -> Iterator[Callable[[pl.DataFrame, pl.DataFrame | None], None]]:
    """Write batches into DuckDB in a thread while the next one is typed and validated.

    The warehouse connection belongs to that thread until the block ends (the caller touches it
    only before and after); a write that fails is raised in the caller at its next batch or at the
    end, and the thread is always waited for.
    """
    handover: queue.Queue = queue.Queue(maxsize=depth)
    failed: list[BaseException] = []

    def consume() -> None:
        while (item := handover.get()) is not _DONE:
            if failed:
                continue  # drain: the caller sees the failure and stops
            try:
                store.add(*item)
            except BaseException as exc:  # raised in the caller
                failed.append(exc)

    thread = threading.Thread(target=consume, name="ingest-writer", daemon=True)
    thread.start()

    def write(ok: pl.DataFrame, bad: pl.DataFrame | None) -> None:
        if failed:
            raise failed[0]
        handover.put((ok, bad))

    try:
        yield write
    finally:
        handover.put(_DONE)
        thread.join()
    if failed:
        raise failed[0]


def _incremental(
    spec: Table,
    watermark: dt.datetime | int | None,
    options: IngestOptions,
    refetch: pl.DataFrame,
    how: Plan,
) -> Selection:
    since: dt.datetime | int | None = None
    if isinstance(watermark, int):
        since = watermark - options.seq_overlap
    elif watermark is not None:
        since = watermark - options.overlap
    return Selection(
        full=False,
        watermark_column=spec.watermark_column,
        since=since,
        refetch_keys=refetch,
        changed_since=how.changed_since,
        changed_until=how.changed_until,
    )


def _advance(
    spec: Table, watermark: dt.datetime | int | None, typed: pl.DataFrame, now: dt.datetime
) -> dt.datetime | int | None:
    """The highest watermark value seen so far, but never past the start of this read.

    A row whose clock runs ahead would otherwise push the watermark into the future, and updates
    to other rows committed before that moment would fall behind it for good.
    """
    column = spec.watermark_column
    if column is None or typed.height == 0:
        return watermark
    values = typed[column].drop_nulls()
    if values.len() == 0:
        return watermark
    top = values.max()
    if spec.column(column).type is ColumnType.TIMESTAMPTZ:
        top = min(top, now)
    return top if watermark is None else max(watermark, top)


def _merge_problems(parse_problems: pl.DataFrame, check_problems: pl.DataFrame) -> pl.DataFrame:
    """All reasons per row; a value that failed to parse is not also reported as missing."""
    parsed_cols = parse_problems.select(ROW, col=pl.col("reason").str.extract(r"^([^:]+):"))
    checks = check_problems.with_columns(col=pl.col("reason").str.extract(r"^([^:]+):")).join(
        parsed_cols, on=[ROW, "col"], how="anti"
    )
    return pl.concat([parse_problems, checks.drop("col")])
