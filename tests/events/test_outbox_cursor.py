"""Reading the outbox by cursor on a real PostgreSQL and a real SQLite source: each committed row
exactly once, whatever the order of commits, in bounded batches.

Bad inputs tried: a transaction that began (and stamped created_at) earlier but commits later; a
transaction still open across several polls of a backlog, and one open while the reader starts;
duplicate reads from the same cursor; payloads that are not JSON, JSON that is not an object, empty
payloads; an empty event type; a SQLite timestamp that is not one; a source that is down; a cursor
of the other dialect.
"""

from __future__ import annotations

import datetime as dt

import pytest

from neuroerp.events.outbox import OutboxCursor, payload_problem, read_batch
from neuroerp.source.connection import SourceUnavailable
from tests.events.outbox_rows import INSERT_PG, insert, make_source, pg_connect, row


def drain_ids(url: str, cursor: OutboxCursor, limit: int) -> tuple[list[str], OutboxCursor]:
    ids: list[str] = []
    while True:
        batch = read_batch(url, cursor, limit=limit)
        ids += [e.id for e in batch.events]
        cursor = OutboxCursor.from_json(batch.cursor.to_json())  # as the sensor stores it
        if not batch.more:
            return ids, cursor


def test_a_transaction_that_began_earlier_and_commits_later_is_read_exactly_once(pg_url):
    make_source(pg_url)
    insert(pg_url, row())  # history before the reader starts: not replayed
    start = read_batch(pg_url, None).cursor
    early = row(at=dt.datetime(2026, 11, 27, 12, 0))
    late = row(at=dt.datetime(2026, 11, 27, 12, 5))
    with pg_connect(pg_url) as slow:
        slow.execute(INSERT_PG, early)  # begins first, holds its transaction open
        insert(pg_url, late)  # begins later, commits first
        first = read_batch(pg_url, start)
        assert [e.id for e in first.events] == [late[0]]
        slow.commit()
    # a created_at cursor would now stand at 12:05 and never see the 12:00 row
    second = read_batch(pg_url, first.cursor)
    assert [e.id for e in second.events] == [early[0]]
    assert read_batch(pg_url, second.cursor).events == []
    # the same cursor reads the same rows again (what makes a retried tick's run key the same)
    assert [e.id for e in read_batch(pg_url, first.cursor).events] == [early[0]]


def test_rows_committed_above_the_horizon_before_the_reader_starts_are_not_replayed(pg_url):
    make_source(pg_url)
    with pg_connect(pg_url) as slow:
        held = row()
        slow.execute(INSERT_PG, held)  # an older transaction left open: the snapshot's xmin stays behind
        history = insert(pg_url, row())  # commits before the reader starts, above that xmin
        begin = read_batch(pg_url, None)
        assert begin.events == [] and begin.more is False
        assert [i for _, i in begin.cursor.seen] == history  # known, so not delivered later
        slow.commit()
    assert [e.id for e in read_batch(pg_url, begin.cursor).events] == [held[0]]


def test_an_event_carries_its_row_and_an_empty_type_is_reported(pg_url):
    make_source(pg_url)
    start = read_batch(pg_url, None).cursor
    at = dt.datetime(2026, 11, 27, 12, 34, 56)
    good, blank = row("invoice.created", at=at), row("", payload="[1]")
    insert(pg_url, good, blank)
    events = {e.id: e for e in read_batch(pg_url, start).events}
    e = events[good[0]]
    assert (e.event_type, e.aggregate_type, e.aggregate_id, e.tenant_id, e.created_at, e.problem) == (
        "invoice.created", "invoice", good[3], "T1", at, None
    )  # fmt: skip
    assert events[blank[0]].event_type == ""
    assert events[blank[0]].problem == "event_type is empty; payload is JSON but not an object (list)"


def test_a_backlog_drains_in_bounded_batches_while_a_transaction_stays_open(pg_url):
    make_source(pg_url)
    start = read_batch(pg_url, None).cursor
    with pg_connect(pg_url) as slow:
        held = row()
        slow.execute(INSERT_PG, held)
        committed = insert(pg_url, *[row("sales_order.created") for _ in range(7)])
        committed += insert(pg_url, *[row("payment.received") for _ in range(6)])
        ids, cursor = drain_ids(pg_url, start, limit=4)
        assert sorted(ids) == sorted(committed)  # all, each once, none of the open transaction
        more = insert(pg_url, row())
        slow.commit()
    ids, cursor = drain_ids(pg_url, cursor, limit=1)
    assert sorted(ids) == sorted([held[0], *more])
    assert read_batch(pg_url, cursor).events == []
    assert cursor.seen == [] or all(x >= cursor.horizon for x, _ in cursor.seen)


def test_malformed_payloads_are_reported_and_the_stream_goes_on(pg_url):
    make_source(pg_url)
    start = read_batch(pg_url, None).cursor
    ids = insert(pg_url, row(payload="{not json"), row(payload="[1, 2]"), row(payload='{"ok": true}'))
    events = {e.id: e for e in read_batch(pg_url, start).events}
    assert set(events) == set(ids)
    assert "not JSON" in events[ids[0]].problem
    assert "not an object" in events[ids[1]].problem
    assert events[ids[2]].problem is None
    assert payload_problem(None) == "payload is empty"


def test_the_sqlite_demo_source_is_read_by_commit_order(sqlite_url):
    make_source(sqlite_url)
    insert(sqlite_url, row())
    start = read_batch(sqlite_url, None).cursor
    assert read_batch(sqlite_url, start).events == []
    first = insert(sqlite_url, *[row() for _ in range(5)])
    second = insert(sqlite_url, row(payload="nope"))
    ids, cursor = drain_ids(sqlite_url, start, limit=2)
    assert ids == first + second
    assert read_batch(sqlite_url, cursor).events == []
    with pytest.raises(ValueError, match="cursor is for sqlite"):
        read_batch("postgresql+psycopg://u:p@127.0.0.1:1/x", cursor)


def test_the_sqlite_source_s_timestamps_are_parsed_and_a_malformed_one_is_reported(sqlite_url):
    make_source(sqlite_url)
    begin = read_batch(sqlite_url, None)
    assert begin.events == [] and begin.more is False
    at = dt.datetime(2026, 11, 27, 12, 34, 56)
    good, bad = row(at=at), (*row(payload="nope")[:5], "gestern 12 Uhr")
    insert(sqlite_url, good, bad)
    events = {e.id: e for e in read_batch(sqlite_url, begin.cursor).events}
    assert events[good[0]].created_at == at and events[good[0]].problem is None
    assert events[bad[0]].created_at is None
    assert events[bad[0]].problem.startswith("created_at is not a timestamp ('gestern 12 Uhr'); payload is not JSON")


def test_a_cursor_stored_before_the_keyset_and_the_memory_of_ids_existed_still_loads():
    old = OutboxCursor.from_json('{"dialect": "postgresql", "horizon": "812"}')
    assert old == OutboxCursor("postgresql", 812, None, [], [])
    again = OutboxCursor.from_json(OutboxCursor("postgresql", 9, (10, "b"), [(10, "a")], ["x"]).to_json())
    assert again == OutboxCursor("postgresql", 9, (10, "b"), [(10, "a")], ["x"])


def test_a_source_that_is_down_raises_the_clear_message_at_once():
    url = "postgresql+psycopg://erp:secret@127.0.0.1:1/erp"
    with pytest.raises(SourceUnavailable, match="port 1") as raised:
        read_batch(url, OutboxCursor("postgresql", 100))
    assert "secret" not in str(raised.value)


def test_an_event_the_erp_marks_published_after_it_was_read_is_not_delivered_again(pg_url):
    make_source(pg_url)
    start = read_batch(pg_url, None).cursor
    (event_id,) = insert(pg_url, row())
    first = read_batch(pg_url, start)
    assert [e.id for e in first.events] == [event_id]
    with pg_connect(pg_url) as conn:  # the ERP's publisher: a new row version, a new xmin
        conn.execute("UPDATE eventbus.outbox_events SET published_at = now() WHERE id = %s", (event_id,))
    second = read_batch(pg_url, OutboxCursor.from_json(first.cursor.to_json()))
    assert second.events == [] and second.reread == 1
    # without the memory of recent ids the update would come through as a second delivery
    forgetful = OutboxCursor.from_json(first.cursor.to_json())
    forgetful.recent = []
    assert [e.id for e in read_batch(pg_url, forgetful).events] == [event_id]
    # a new event and another update of the delivered one in the same batch: one event, one re-read
    (fresh,) = insert(pg_url, row())
    with pg_connect(pg_url) as conn:
        conn.execute("UPDATE eventbus.outbox_events SET retry_count = 1 WHERE id = %s", (event_id,))
    third = read_batch(pg_url, second.cursor)
    assert [e.id for e in third.events] == [fresh] and third.reread == 1
