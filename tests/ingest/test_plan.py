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

from neuroerp.contract import table
from neuroerp.ingest.changes import FIRST_NORMAL_XID, MAX_HORIZON_AGE, WRAP, Marks, plan, xmin_condition

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
    assert xmin_condition(5 * WRAP + 1_234) == "age(xmin) BETWEEN 0 AND age('1234'::xid)"
    assert xmin_condition(5 * WRAP + FIRST_NORMAL_XID) == f"age(xmin) BETWEEN 0 AND age('{FIRST_NORMAL_XID}'::xid)"
    assert xmin_condition(5 * WRAP + 1) == f"age(xmin) BETWEEN 0 AND age('{FIRST_NORMAL_XID}'::xid)"
    assert xmin_condition(WRAP - 1) == f"age(xmin) BETWEEN 0 AND age('{WRAP - 1}'::xid)"


def test_marks_round_trip_and_marks_of_another_version_mean_a_fresh_start():
    assert Marks.from_json(AFTER.to_json()) == AFTER
    assert Marks.from_json(None) is None and Marks.from_json("") is None
    assert Marks.from_json('{"system": "7"}') is None  # fields missing
    assert Marks.from_json("{not json") is None
