"""How a run decides to read a table (`neuroerp.ingest.changes.plan`), at each decision's edge.

The integration tests drive these decisions through a real PostgreSQL, where a horizon 2^31
transactions old or a delete counter that moved by exactly the right amount cannot be staged; here
each branch is taken on both sides of its boundary.

Bad inputs tried: a horizon ahead of the source's next transaction id (a restored server) and
exactly at it; a horizon exactly MAX_HORIZON_AGE old and one more; a cluster id that changed, and
one unknown on either side; a new column list; delete statistics that vanished, were reset, moved
(up and down) or stayed; a reconciliation exactly `reconcile_every` ago and a second less; a
wrapped-around horizon below PostgreSQL's first normal transaction id; marks written by another
version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
import sqlalchemy as sa

from neuroerp.contract import table
from neuroerp.ingest.changes import (
    FIRST_NORMAL_XID,
    MAX_HORIZON_AGE,
    WRAP,
    XID_SET_LIMIT,
    Marks,
    plan,
    xmin_condition,
)
from neuroerp.source.database import create_source_engine

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(hours=24)
CUSTOMERS, OUTBOX = table("customers"), table("outbox_events")  # a change column; none
BEFORE = Marks(system="7", horizon=1_000, next_xid=1_010, deletes=5, stats_epoch="e1", columns="c1")
AFTER = Marks(system="7", horizon=2_000, next_xid=2_010, deletes=5, stats_epoch="e1", columns="c1")


def decide(spec=CUSTOMERS, *, loaded=True, watermark=NOW, previous=BEFORE, current=AFTER, reconciled_at=NOW,
           now=NOW, full_refresh=False, reconcile=True, every=DAY):  # fmt: skip
    return plan(
        spec, loaded=loaded, watermark=watermark, previous=previous, current=current, reconciled_at=reconciled_at,
        now=now, full_refresh=full_refresh, reconcile=reconcile, reconcile_every=every,
    )  # fmt: skip


def test_an_incremental_postgresql_read_starts_at_the_last_horizon_and_compares_no_keys_when_nothing_was_deleted():
    how = decide()
    assert (how.full, how.marker, how.changed_since, how.reconcile) == (False, "xmin", 1_000, False)
    assert how.changed_until == 2_010  # the next id when this run's snapshot was taken: later ones, next run
    assert how.why == "rows written since transaction 1000" and how.reconcile_why == ""


@pytest.mark.parametrize(
    ("change", "why", "marker"),
    [
        ({"full_refresh": True}, "full refresh requested", "xmin"),
        ({"loaded": False}, "first load", "xmin"),
        ({"current": replace(AFTER, columns="c2")}, "the contract's columns changed since the last read", "xmin"),
        ({"current": replace(AFTER, system="8")}, "another PostgreSQL cluster than at the last read", "xmin"),
        ({"current": replace(AFTER, next_xid=999)}, "the source's transaction ids went back", "xmin"),
        ({"current": replace(AFTER, next_xid=1_000 + MAX_HORIZON_AGE + 1)}, "over 2 billion transactions", "xmin"),
        ({"current": None, "spec": OUTBOX}, "no change marker to read by", "none"),
        ({"current": None, "watermark": None}, "no change marker to read by", "updated_at"),
    ],
)
def test_what_makes_a_run_read_the_whole_table(change, why, marker):
    how = decide(**change)
    assert how.full and why in how.why and how.marker == marker
    assert not how.reconcile and how.changed_since is None


@pytest.mark.parametrize(
    "current",
    [
        replace(AFTER, next_xid=1_000),  # the horizon is the next id: nothing written since, still incremental
        replace(AFTER, next_xid=1_000 + MAX_HORIZON_AGE),  # exactly as old as age() still orders correctly
        replace(AFTER, system=None),  # the role may not read the cluster id: not proof of another cluster
    ],
)
def test_at_the_edge_a_postgresql_read_stays_incremental(current):
    how = decide(current=current)
    assert not how.full and how.changed_since == 1_000
    assert not decide(previous=replace(BEFORE, system=None), current=current).full


def test_without_postgresql_marks_a_table_with_a_change_column_is_read_by_it():
    how = decide(current=None, previous=None)
    assert (how.full, how.marker, how.changed_since) == (False, "updated_at", None)
    assert how.why == "rows with updated_at since the watermark, minus the overlap window"
    # a source without delete statistics (SQLite, views) compares keys on every run
    assert how.reconcile and how.reconcile_why == "the source keeps no delete statistics (keys compared on every run)"
    assert not decide(current=None, previous=None, reconcile=False).reconcile


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"previous": None}, "no delete statistics recorded by the last run"),
        ({"reconciled_at": None}, "no delete statistics recorded by the last run"),
        ({"reconciled_at": NOW - DAY}, "safety net: last full reconciliation 24.0 h ago"),
        ({"reconciled_at": NOW - 3 * DAY}, "safety net: last full reconciliation 3.0 days ago"),
        ({"current": replace(AFTER, deletes=None)}, "delete statistics unavailable (track_counts off, or a standby)"),
        ({"current": replace(AFTER, stats_epoch="e2")}, "statistics reset, server restarted, or table rewritten"),
        ({"current": replace(AFTER, deletes=1_234)}, "+1,229 deletes counted since the last run"),
        ({"current": replace(AFTER, deletes=2)}, "-3 deletes counted since the last run"),
    ],
)
def test_what_makes_a_run_compare_every_key(change, why):
    how = decide(**change)
    assert how.reconcile and not how.full and why in how.reconcile_why
    assert not decide(**change, reconcile=False).reconcile  # the option turns it off


def test_the_safety_net_is_due_at_reconcile_every_and_not_a_second_before():
    assert decide(reconciled_at=NOW - DAY).reconcile
    assert not decide(reconciled_at=NOW - DAY + dt.timedelta(seconds=1)).reconcile
    assert decide(reconciled_at=NOW - 2 * DAY + dt.timedelta(seconds=36)).reconcile_why.endswith(" 48.0 h ago")
    assert decide(reconciled_at=NOW - 2 * DAY).reconcile_why.endswith(" 2.0 days ago")


def test_the_xmin_condition_keeps_ids_within_one_wraparound_and_above_the_special_ones():
    def bound(xid: int) -> str:
        return f"age(xmin) <= (SELECT age('{xid}'::xid)) AND age(xmin) >= 0"

    assert xmin_condition(5 * WRAP + 1_234) == bound(1_234)
    assert xmin_condition(5 * WRAP + FIRST_NORMAL_XID) == bound(FIRST_NORMAL_XID)
    assert xmin_condition(5 * WRAP + 1) == bound(FIRST_NORMAL_XID)
    assert xmin_condition(WRAP - 1) == bound(WRAP - 1)


def test_a_few_transactions_since_the_horizon_are_named_one_by_one_and_many_compared_by_age():
    assert xmin_condition(5 * WRAP + 100, 5 * WRAP + 103) == "xmin = ANY('{100,101,102}'::xid[])"
    # across the wraparound: the special ids 0 to 2 are no transaction's
    assert xmin_condition(6 * WRAP - 2, 6 * WRAP + 4) == "xmin = ANY('{4294967294,4294967295,3}'::xid[])"
    assert xmin_condition(7 * WRAP + 50, 7 * WRAP + 50) == "FALSE"  # no id assigned since the horizon
    assert xmin_condition(WRAP, WRAP + 10) == "xmin = ANY('{3,4,5,6,7,8,9}'::xid[])"
    assert xmin_condition(1_000, 1_000 + XID_SET_LIMIT).count(",") == XID_SET_LIMIT - 1
    assert xmin_condition(1_000, 1_001 + XID_SET_LIMIT) == "age(xmin) <= (SELECT age('1000'::xid)) AND age(xmin) >= 0"
    assert xmin_condition(1_000) == xmin_condition(1_000, 1_001 + XID_SET_LIMIT)  # no upper bound: by age


def test_the_named_transactions_are_exactly_those_from_the_horizon_to_the_snapshot_across_the_wraparound(pg_url):
    """PostgreSQL evaluates the id list: the horizon is in, the snapshot's next id is out (a
    transaction that got it commits after the snapshot: the next run reads it), on both sides of
    the wraparound."""
    engine = create_source_engine(pg_url)
    horizon, until = 9 * WRAP - 3, 9 * WRAP + 5  # ids WRAP-3 .. WRAP-1, then 3 and 4
    ids = [WRAP - 5, WRAP - 4, WRAP - 3, WRAP - 2, WRAP - 1, 3, 4, 5, 6, 1_000]
    values = ", ".join(f"('{i}'::xid)" for i in ids)
    with engine.connect() as conn:
        taken = conn.execute(
            sa.text(f"SELECT xmin::text::bigint FROM (VALUES {values}) v(xmin) WHERE {xmin_condition(horizon, until)}")
        ).scalars()
        assert sorted(taken) == [3, 4, WRAP - 3, WRAP - 2, WRAP - 1]
    engine.dispose()


def test_the_xmin_condition_takes_exactly_the_ids_from_the_horizon_to_now_across_the_wraparound(pg_url):
    """PostgreSQL itself evaluates the condition for ids on both sides of each edge: the horizon, now,
    2^31 back (where age() turns negative: rows that old are not new) and the wraparound to the
    special ids; `xmin` is a column of ids here, as it is of a table's row versions."""
    engine = create_source_engine(pg_url)
    with engine.begin() as conn:
        now = conn.execute(sa.text("SELECT txid_current() % 4294967296")).scalar()  # age() counts from it

        def xid(back: int) -> int:
            value = (now - back) % WRAP
            return value if value >= FIRST_NORMAL_XID else value - FIRST_NORMAL_XID - 1 + WRAP  # skip 0..2

        for horizon_age in (0, 1, 700, 2**31 - 2**24):
            horizon = xid(horizon_age)
            backs = {0, 1, horizon_age - 1, horizon_age, horizon_age + 1, 2**31 - 1, 2**31, 2**31 + 1, WRAP - 1}
            ids = sorted({xid(b) for b in backs if 0 <= b < WRAP} | {(now + 1) % WRAP, (now + 2**20) % WRAP})
            values = ", ".join(f"('{i}'::xid)" for i in ids)
            taken = conn.execute(
                sa.text(f"SELECT xmin::text::bigint FROM (VALUES {values}) v(xmin) WHERE {xmin_condition(horizon)}")
            ).scalars()
            signed_age = {i: (now - i + 2**31) % WRAP - 2**31 for i in ids}
            expected = {i for i in ids if 0 <= signed_age[i] <= signed_age[horizon]}
            assert set(taken) == expected, horizon_age
            assert horizon in expected and xid(0) in expected
            assert xid(horizon_age + 1) not in expected and xid(2**31) not in expected
    engine.dispose()


def test_marks_round_trip_and_marks_of_another_version_mean_a_fresh_start():
    assert Marks.from_json(AFTER.to_json()) == AFTER
    assert Marks.from_json(None) is None and Marks.from_json("") is None
    assert Marks.from_json('{"system": "7"}') is None  # fields missing
    assert Marks.from_json("{not json") is None
