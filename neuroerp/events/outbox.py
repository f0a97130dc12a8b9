"""Reading the ERP's outbox by cursor, each committed row exactly once, in bounded batches.

Outbox ids are UUIDs (unordered) and `created_at` is set at insert while transactions commit out
of order, so "created_at > last seen" loses a row whose transaction began earlier and committed
later. The cursor follows commits instead:

- PostgreSQL: the snapshot horizon. In one REPEATABLE READ snapshot S the reader takes every
  visible row whose transaction id (the row's `xmin`, widened to 64 bits against S) is at or above
  the cursor's horizon H. Every transaction below `pg_snapshot_xmin(S)` has ended by then, so the
  next horizon is that xmin: a transaction still running at S has a larger id and is read by a
  later poll once it commits. Rows at or above the new horizon that were already read are kept in
  the cursor (`seen`) and skipped. A batch that hits the limit resumes after the last row of the
  ended region (keyset `after`), so a backlog of 100k rows costs one bounded query per poll.
- SQLite (the embedded demo source): one writer at a time, so rows are appended in commit order
  and the `rowid` is the cursor.

A row the ERP later updates (its publisher sets `published_at`) gets a new transaction id and is
read again; the cursor remembers the last `RECENT_IDS` ids it delivered and drops such re-reads
(counted as `reread`), so a publisher that marks events soon after writing them causes no second
refresh. An update of an older event comes through once more: one more refresh, never a lost event. Rows frozen more than 2^31
transactions ago would widen wrongly; they are far below any horizon a running cursor holds.

Payloads that are not a JSON object are reported per event (`problem`); the event still counts
by its type, so the stream goes on and nothing is dropped silently.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from neuroerp.source.connection import RetryPolicy, postgres_conninfo, with_source_retries

BATCH_LIMIT = 5_000
RECENT_IDS = 1_000  # ids delivered lately, to drop rows the ERP updated after we read them
WRAP = 1 << 32
POSTGRES_TABLE = "eventbus.outbox_events"
SQLITE_TABLE = "outbox_events"
COLUMNS = "id::text, event_type, aggregate_type, aggregate_id, tenant_id, payload, created_at"


@dataclass(frozen=True)
class OutboxEvent:
    id: str
    event_type: str
    aggregate_type: str | None
    aggregate_id: str | None
    tenant_id: str | None
    created_at: dt.datetime | None
    problem: str | None = None  # why the payload is malformed; None when it is a JSON object


@dataclass
class OutboxCursor:
    """Where the reader stands; stored as JSON (Dagster's sensor cursor)."""

    dialect: str
    horizon: int  # PostgreSQL: every transaction below it was read; SQLite: the last rowid read
    after: tuple[int, str] | None = None  # PostgreSQL: keyset inside the ended region of a backlog
    seen: list[tuple[int, str]] = field(default_factory=list)  # PostgreSQL: read rows at/above it
    recent: list[str] = field(default_factory=list)  # PostgreSQL: ids delivered lately (updates re-read)

    def to_json(self) -> str:
        return json.dumps(
            {
                "dialect": self.dialect,
                "horizon": self.horizon,
                "after": self.after,
                "seen": self.seen,
                "recent": self.recent,
            },  # fmt: skip
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> OutboxCursor:
        data = json.loads(text)
        after = data.get("after")
        return cls(
            dialect=data["dialect"],
            horizon=int(data["horizon"]),
            after=(int(after[0]), str(after[1])) if after else None,
            seen=[(int(x), str(i)) for x, i in data.get("seen", [])],
            recent=[str(i) for i in data.get("recent", [])],
        )


@dataclass
class Batch:
    events: list[OutboxEvent]
    cursor: OutboxCursor
    more: bool  # the limit was hit: more rows are pending
    reread: int = 0  # rows of events delivered lately that the ERP updated since (dropped)

    @property
    def malformed(self) -> list[OutboxEvent]:
        return [e for e in self.events if e.problem]


def payload_problem(payload: object) -> str | None:
    """Why an outbox payload is unusable, or None (a JSON object)."""
    if payload is None:
        return "payload is empty"
    if isinstance(payload, dict):
        return None
    try:
        parsed = json.loads(payload)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        return f"payload is not JSON ({exc})"
    if not isinstance(parsed, dict):
        return f"payload is JSON but not an object ({type(parsed).__name__})"
    return None


def _event(row: tuple) -> OutboxEvent:
    id_, event_type, aggregate_type, aggregate_id, tenant_id, payload, created_at = row
    problem = payload_problem(payload)
    if not event_type:
        problem = "; ".join(p for p in ("event_type is empty", problem) if p)
    if isinstance(created_at, str):
        try:
            created_at = dt.datetime.fromisoformat(created_at)
        except ValueError:
            problem = "; ".join(p for p in (f"created_at is not a timestamp ({created_at!r})", problem) if p)
            created_at = None
    return OutboxEvent(str(id_), event_type or "", aggregate_type, aggregate_id, tenant_id, created_at, problem)


def _sqlite_path(url: str) -> Path:
    return Path(sa.engine.make_url(url).database or "")


def _sqlite_connect(url: str) -> sqlite3.Connection:
    path = _sqlite_path(url)
    if not path.is_file():
        raise sqlite3.OperationalError("unable to open database file")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)


_PG_SNAPSHOT = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
_PG_ROWS = f"""
SELECT fx, {COLUMNS} FROM (
    SELECT %(xmax)s::bigint - ((%(xmax)s::bigint - o.xmin::text::bigint) %% {WRAP} + {WRAP}) %% {WRAP} AS fx, o.*
    FROM {POSTGRES_TABLE} AS o
) AS r
WHERE fx >= %(horizon)s AND (fx, id::text) > (%(after_x)s, %(after_id)s) AND NOT (id::text = ANY(%(seen)s))
ORDER BY fx, id::text
LIMIT %(limit)s
"""


def _read_postgres(url: str, cursor: OutboxCursor | None, limit: int) -> Batch:
    import psycopg

    with psycopg.connect(postgres_conninfo(url)) as conn:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.transaction():
            xmin, xmax = conn.execute(_PG_SNAPSHOT).fetchone()
            if cursor is None:  # start at the present: what committed before is in the last full run
                rows = conn.execute(_PG_ROWS, _pg_params(xmax, OutboxCursor("postgresql", xmin), None)).fetchall()
                seen = [(int(r[0]), r[1]) for r in rows]
                return Batch([], OutboxCursor("postgresql", xmin, None, seen), more=False)
            rows = conn.execute(_PG_ROWS, _pg_params(xmax, cursor, limit)).fetchall()
    keys = [(int(r[0]), r[1]) for r in rows]
    delivered = set(cursor.recent)
    events = [_event(r[1:]) for r in rows if r[1] not in delivered]
    reread = len(rows) - len(events)
    recent = [*cursor.recent, *(e.id for e in events)][-RECENT_IDS:]
    more = len(rows) >= limit
    if not more:  # everything visible is read: the horizon moves up to the snapshot's xmin
        seen = [k for k in [*cursor.seen, *keys] if k[0] >= xmin]
        moved = OutboxCursor("postgresql", max(xmin, cursor.horizon), None, seen, recent)
        return Batch(events, moved, more=False, reread=reread)
    ended = [k for k in keys if k[0] < xmin]  # nothing can still commit below these: a stable keyset
    after = ended[-1] if ended else cursor.after
    # the horizon stays: read rows stay in `seen` until the keyset or a later horizon passes them
    seen = [k for k in [*cursor.seen, *keys] if after is None or k > after]
    return Batch(events, OutboxCursor("postgresql", cursor.horizon, after, seen, recent), more=True, reread=reread)


def _pg_params(xmax: int, cursor: OutboxCursor, limit: int | None) -> dict:
    after = cursor.after or (cursor.horizon - 1, "")
    return {
        "xmax": xmax,
        "horizon": cursor.horizon,
        "after_x": after[0],
        "after_id": after[1],
        "seen": [i for _, i in cursor.seen],
        "limit": limit,
    }


def _read_sqlite(url: str, cursor: OutboxCursor | None, limit: int) -> Batch:
    with _sqlite_connect(url) as conn:
        if cursor is None:
            (last,) = conn.execute(f"SELECT coalesce(max(rowid), 0) FROM {SQLITE_TABLE}").fetchone()
            return Batch([], OutboxCursor("sqlite", int(last)), more=False)
        rows = conn.execute(
            f"SELECT rowid, {COLUMNS.replace('::text', '')} FROM {SQLITE_TABLE} WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (cursor.horizon, limit),
        ).fetchall()
    events = [_event(r[1:]) for r in rows]
    last = rows[-1][0] if rows else cursor.horizon
    return Batch(events, OutboxCursor("sqlite", int(last)), more=len(rows) >= limit)


def read_batch(url: str, cursor: OutboxCursor | None, limit: int = BATCH_LIMIT) -> Batch:
    """The next committed outbox rows after `cursor` (at most `limit`) and the cursor after them.

    No cursor: start at the present (no events; the cursor marks what is already committed).
    One connection attempt: a source that cannot be reached raises `SourceUnavailable` with the
    clear message, and the caller keeps its cursor for the next poll.
    """
    dialect = sa.engine.make_url(url).get_backend_name()
    if cursor is not None and cursor.dialect != dialect:
        raise ValueError(f"outbox cursor is for {cursor.dialect}, the source is {dialect}: reset the sensor's cursor")
    reader = _read_sqlite if dialect == "sqlite" else _read_postgres
    return with_source_retries(url, lambda: reader(url, cursor, limit), RetryPolicy(attempts=1))
