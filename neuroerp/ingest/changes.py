"""What changed at the source since the last read, without reading what did not.

PostgreSQL (ordinary and partitioned tables): every row version carries `xmin`, the transaction
that wrote it. A read first takes a snapshot (`pg_current_snapshot()`); every row version it
cannot see, and every one written later, has an xmin at or past that snapshot's xmin (the oldest
transaction still running then; a subtransaction's id follows its parent's). The next read takes
the rows whose xmin lies between that horizon and now: inserts and updates, however late they
commit, whatever their `updated_at` or `created_at` say (a transaction that began earlier and
commits later is caught; a `created_at > cursor` scan would lose it). Tables without a change
marker (outbox, saga steps, locks, idempotency keys) are read this way too, so their cost follows
what changed, not their size. A transaction left open holds the horizon back: rows since then are
read again (and found unchanged) until it ends.

`xmin` is a 32-bit transaction id that wraps around; the horizon is kept as a 64-bit `xid8`
(epoch and id). Where few transactions ran since the horizon (up to `XID_SET_LIMIT`, the usual
case for runs a minute apart), the read names them: `xmin = ANY(ids from the horizon to this
run's snapshot)`, a constant list PostgreSQL hashes and may look up in parallel workers. A transaction that
commits after this run's snapshot is past that range, and at or past this run's horizon: the next
run reads it. Otherwise the read compares with `age(xmin)`, which PostgreSQL computes modulo 2^32
from the same "now" within a statement: a row is new when `0 <= age(xmin) <= age(horizon)`
(age() keeps the scan to one process). Either is exact while the horizon is less than 2^31
transactions old; an older one (or one from the future: another cluster at the same address, a
restore) means a full read. Frozen rows keep their xmin; one written 2^32 transactions ago may
look new and is read again (never missed).

Hard deletes leave no row to find: key reconciliation (every key of the source against the
warehouse) finds them, and runs only when the table's delete counter (`n_tup_del` of
`pg_stat_user_tables`, summed over partitions) moved since the last run, or when anything that
counter depends on changed: the server restarted (statistics of a crash are lost), statistics
were reset (`stats_reset`), the table was rewritten (TRUNCATE deletes without counting; it gives
the table a new file), `track_counts` is off, or the source is a standby (it counts no deletes).
PostgreSQL reports a session's counts when it goes idle (within about a second, at most a minute
on a busy session): a delete not counted yet is found by the run after it is. A full
reconciliation on a slower cadence (`reconcile_every`, daily by default) is the safety net.

SQLite (the embedded demo, a single writer) has no row versions: its tables are read by their
change marker with an overlap window and reconciled on every run; tables without a marker are
read whole. Views and foreign tables at a PostgreSQL source are treated the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass

from neuroerp.contract import Table

WRAP = 2**32
# how far behind "now" a horizon may be for age() to order it correctly (2^31), with room for the
# transactions that start while the read runs
MAX_HORIZON_AGE = 2**31 - 2**24
# up to this many transactions since the horizon, a read names them (at most about 100 kB of SQL)
XID_SET_LIMIT = 10_000
FIRST_NORMAL_XID = 3  # 0 to 2 are PostgreSQL's special ids (invalid, bootstrap, frozen)


@dataclass(frozen=True)
class Marks:
    """What a read recorded about its PostgreSQL table before reading it."""

    system: str | None  # the cluster's system identifier (None where the role may not read it)
    horizon: int  # xid8: every row version the next read must see has an xmin at or past it
    next_xid: int  # xid8: the first id not yet assigned when the snapshot was taken
    deletes: int | None  # rows deleted, as counted by the statistics; None: they cannot be trusted
    stats_epoch: str  # what the count depends on: server start, statistics reset, table, its files
    columns: str  # the columns read (a new contract version reads every row again)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | None) -> Marks | None:
        if not text:
            return None
        try:
            return cls(**json.loads(text))
        except (TypeError, ValueError):
            return None  # written by another version: start over with a full read


@dataclass(frozen=True)
class Plan:
    """How one run reads its table."""

    full: bool
    why: str  # why the table is read whole, or by what it is read incrementally
    marker: str  # "xmin", the change column ("updated_at", "seq", ...), or "none" (read whole)
    changed_since: int | None = None  # xid8 horizon: read rows written since (PostgreSQL)
    changed_until: int | None = None  # xid8: ... and before this one (this run's next id; later: next run)
    reconcile: bool = False  # compare every key with the source
    reconcile_why: str = ""


def columns_signature(spec: Table) -> str:
    text = ",".join(f"{c.name}:{c.type.value}" for c in spec.columns)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def plan(
    spec: Table,
    *,
    loaded: bool,
    watermark: object,
    previous: Marks | None,
    current: Marks | None,
    reconciled_at: dt.datetime | None,
    now: dt.datetime,
    full_refresh: bool,
    reconcile: bool,
    reconcile_every: dt.timedelta,
) -> Plan:
    """Decide how to read: whole, or what changed; and whether to compare keys."""
    column = spec.watermark_column
    if current is not None:
        marker = "xmin"
    else:
        marker = column or "none"
    if full_refresh:
        return Plan(True, "full refresh requested", marker)
    if not loaded:
        return Plan(True, "first load", marker)
    since = until = None
    if current is not None and previous is not None:
        if previous.columns != current.columns:
            return Plan(True, "the contract's columns changed since the last read", marker)
        if previous.system is not None and current.system is not None and previous.system != current.system:
            return Plan(True, "the source is another PostgreSQL cluster than at the last read", marker)
        if previous.horizon > current.next_xid:
            return Plan(True, "the source's transaction ids went back (a restored or another server)", marker)
        if current.next_xid - previous.horizon > MAX_HORIZON_AGE:
            return Plan(True, "the last read is over 2 billion transactions ago (xmin wraps around)", marker)
        since, until = previous.horizon, current.next_xid
        why = f"rows written since transaction {previous.horizon}"
    elif column is not None and watermark is not None:
        marker = column  # SQLite, views, or the first run after an upgrade: by the change column
        why = f"rows with {column} since the watermark, minus the overlap window"
    else:
        return Plan(True, "no change marker to read by", marker)
    if not reconcile:
        return Plan(False, why, marker, since, until)
    due = _reconcile_reason(previous, current, reconciled_at, now, reconcile_every)
    return Plan(False, why, marker, since, until, reconcile=due is not None, reconcile_why=due or "")


def _reconcile_reason(
    previous: Marks | None,
    current: Marks | None,
    reconciled_at: dt.datetime | None,
    now: dt.datetime,
    every: dt.timedelta,
) -> str | None:
    """Why this run must compare keys; None when the source proves nothing was deleted."""
    if current is None:
        return "the source keeps no delete statistics (keys compared on every run)"
    if previous is None or reconciled_at is None:
        return "no delete statistics recorded by the last run"
    if now - reconciled_at >= every:
        return f"safety net: last full reconciliation {_ago(now - reconciled_at)} ago"
    if current.deletes is None:
        return "delete statistics unavailable (track_counts off, or a standby)"
    if previous.stats_epoch != current.stats_epoch:
        return "statistics reset, server restarted, or table rewritten since the last run"
    if previous.deletes != current.deletes:
        return f"{(current.deletes or 0) - (previous.deletes or 0):+,} deletes counted since the last run"
    return None


def _ago(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def xmin_condition(horizon: int, until: int | None = None) -> str:
    """SQL: the row version was written at or after the xid8 `horizon` (and, where `until` is
    given, before the xid8 `until`: the first id not yet assigned when this run's snapshot was
    taken; see the module docstring)."""
    if until is not None and until - horizon <= XID_SET_LIMIT:
        # each id as xid (modulo 2^32, across a wraparound), the special ids left out: a constant
        # list, hashed once per worker, then a lookup per row
        ids = [i % WRAP for i in range(horizon, until) if i % WRAP >= FIRST_NORMAL_XID]
        return f"xmin = ANY('{{{','.join(map(str, ids))}}}'::xid[])" if ids else "FALSE"
    low = horizon % WRAP
    if low < FIRST_NORMAL_XID:
        low = FIRST_NORMAL_XID  # no transaction has such an id: the next one is the same bound
    # 0 <= age(xmin) <= age(horizon), evaluated cheaply: the bound once per statement (an InitPlan;
    # age() is only stable, so written inline it runs for every row), and the upper bound first:
    # it fails for the old rows, most of a table, which then skip the second age(xmin). Both
    # comparisons cost the same, so PostgreSQL keeps them in this order.
    return f"age(xmin) <= (SELECT age('{low}'::xid)) AND age(xmin) >= 0"
