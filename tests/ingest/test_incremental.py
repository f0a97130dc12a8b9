"""Incremental runs on PostgreSQL cost what changed: row versions (xmin) say what to read, delete
statistics say when to compare keys. Every test checks that raw still equals the source.

Changes tried: nothing; an outbox event inserted by a transaction that began earlier and committed
after a run (a `created_at > cursor` scan loses it); an update whose `updated_at` is a day old,
committed after a run (an `updated_at` window loses it); hard deletes counted by the statistics; a
delete the statistics never saw (`track_counts` off in the deleting session: only the safety net
finds it); statistics reset between two runs that leaves the delete counter where it was; TRUNCATE
(it deletes without counting). Tests run in order on one source and warehouse, each from the state
the one before left.
"""

import datetime as dt
import uuid

import duckdb
import psycopg
import pytest

from neuroerp.contract import TABLES, load_order, table
from neuroerp.ingest import ingest_table, reader_for
from neuroerp.seed import seed_source
from tests.conftest import AS_OF, SEED, fresh_database
from tests.ingest.conftest import execute, ingest_all, raw_rows, source_rows


@pytest.fixture(scope="module")
def loaded(postgres_admin_url, tmp_path_factory):
    """A seeded source loaded once into a warehouse, then one incremental run to settle."""
    with fresh_database(postgres_admin_url) as url:
        seed_source(url, scale=0.01, seed=SEED, as_of=AS_OF, create_schema=True)
        conn = duckdb.connect(str(tmp_path_factory.mktemp("incremental") / "warehouse.duckdb"))
        ingest_all(url, conn)
        yield url, conn
        conn.close()


def _psycopg(url: str) -> str:
    return url.replace("+psycopg", "")


def _equal(url: str, conn, *names: str) -> None:
    for spec in [table(n) for n in names] or TABLES:
        assert raw_rows(conn, spec) == source_rows(url, spec), spec.name


def test_nothing_changed_reads_no_row_and_compares_no_key(loaded):
    url, conn = loaded
    stats = ingest_all(url, conn)
    for s in stats.values():
        assert s.mode == "incremental" and s.marker == "xmin", (s.table, s.why)
        assert s.rows_read == 0 and not s.keys_compared, (s.table, s.rows_read, s.why)


def test_an_event_of_a_transaction_that_began_earlier_and_commits_later_is_not_lost(loaded):
    url, conn = loaded
    late, early = str(uuid.uuid4()), str(uuid.uuid4())
    insert = (
        "INSERT INTO eventbus.outbox_events VALUES ('{id}', 'invoice.created', 'invoice', 'i1', '{{}}', NULL, "
        "'lh-nord', {created}, NULL, 0, NULL)"
    )
    with psycopg.connect(_psycopg(url)) as slow:
        # began first: its created_at (the start of its transaction) is the earlier one
        slow.execute(insert.format(id=late, created="now()::timestamp"))
        execute(url, insert.format(id=early, created="now()::timestamp"))  # began later, committed first
        first = ingest_all(url, conn)["outbox_events"]
        assert (first.rows_read, first.rows_upserted) == (1, 1)
        slow.commit()
    second = ingest_all(url, conn)["outbox_events"]
    assert second.rows_upserted == 1
    assert second.rows_read <= 2  # the new events, not the table
    created = dict(conn.execute("SELECT id::VARCHAR, created_at FROM raw.outbox_events WHERE id IN (?, ?)", [late, early]).fetchall())  # fmt: skip
    assert created[late] < created[early]  # a cursor on created_at had passed it before it committed
    _equal(url, conn, "outbox_events")


def test_an_update_committed_late_with_an_old_updated_at_is_found(loaded):
    url, conn = loaded
    with psycopg.connect(_psycopg(url)) as slow:
        slow.execute(
            "UPDATE crm.customers SET name = 'Spät GmbH', updated_at = now() - interval '1 day' "
            "WHERE customer_id = (SELECT min(customer_id) FROM crm.customers)"
        )
        ingest_all(url, conn)
        slow.commit()
    stats = ingest_all(url, conn)["customers"]
    assert stats.rows_upserted == 1
    assert conn.execute("SELECT count(*) FROM raw.customers WHERE name = 'Spät GmbH'").fetchone() == (1,)
    _equal(url, conn, "customers")


def test_counted_deletes_are_found_and_other_tables_compare_no_keys(loaded):
    url, conn = loaded
    execute(
        url,
        "DELETE FROM finance.payments WHERE payment_id = (SELECT min(payment_id) FROM finance.payments)",
        "UPDATE finance.invoices SET status = 'open', updated_at = now() "
        "WHERE invoice_id = (SELECT max(invoice_id) FROM finance.invoices)",
    )
    stats = ingest_all(url, conn)
    payments = stats["payments"]
    assert payments.keys_compared and payments.rows_deleted == 1
    assert "+1 deletes counted since the last run" in payments.why
    compared = [name for name, s in stats.items() if s.keys_compared]
    assert compared == ["payments"]  # the invoice update needs no key comparison
    _equal(url, conn, "payments", "invoices")


def test_a_delete_the_statistics_never_saw_waits_for_the_safety_net(loaded):
    url, conn = loaded
    execute(
        url,
        "SET LOCAL track_counts = off",  # this session counts nothing: the delete leaves no trace
        "DELETE FROM sales.sales_order_lines WHERE line_id = (SELECT min(line_id) FROM sales.sales_order_lines)",
    )
    quiet = ingest_all(url, conn)["sales_order_lines"]
    assert not quiet.keys_compared and quiet.rows_deleted == 0  # no sign of a delete: keys not compared
    caught = ingest_all(url, conn, reconcile_every=dt.timedelta(hours=0))["sales_order_lines"]
    assert caught.keys_compared and caught.rows_deleted == 1
    assert "safety net: last full reconciliation" in caught.why
    _equal(url, conn, "sales_order_lines")


def test_a_statistics_reset_is_not_taken_for_no_deletes(loaded):
    url, conn = loaded
    execute(url, "DELETE FROM eventbus.event_locks WHERE lock_id = (SELECT min(lock_id) FROM eventbus.event_locks)")
    assert ingest_all(url, conn)["event_locks"].rows_deleted == 1
    with psycopg.connect(_psycopg(url), autocommit=True) as admin:
        counted = admin.execute(
            "SELECT n_tup_del FROM pg_stat_user_tables WHERE relid = 'eventbus.event_locks'::regclass"
        ).fetchone()[0]
        admin.execute("SELECT pg_stat_reset_single_table_counters('eventbus.event_locks'::regclass)")
    # as many deletes again: the counter reads what the last run recorded
    execute(url, f"DELETE FROM eventbus.event_locks WHERE lock_id IN (SELECT lock_id FROM eventbus.event_locks ORDER BY lock_id LIMIT {counted})")  # fmt: skip
    with psycopg.connect(_psycopg(url), autocommit=True) as admin:
        again = admin.execute(
            "SELECT n_tup_del FROM pg_stat_user_tables WHERE relid = 'eventbus.event_locks'::regclass"
        ).fetchone()[0]
    assert again == counted
    stats = ingest_all(url, conn)["event_locks"]
    assert stats.keys_compared and stats.rows_deleted == counted
    assert "statistics reset" in stats.why
    _equal(url, conn, "event_locks")


def test_truncate_deletes_without_counting_and_is_found(loaded):
    url, conn = loaded
    before = conn.execute("SELECT count(*) FROM raw.idempotency_keys").fetchone()[0]
    assert before > 0
    execute(url, "TRUNCATE eventbus.idempotency_keys")
    stats = ingest_all(url, conn)["idempotency_keys"]
    assert stats.keys_compared and stats.rows_deleted == before
    _equal(url, conn)


def test_reused_source_connections_hold_no_transaction_and_survive_being_dropped(loaded):
    """Connections are reused across tables and runs: between runs none may sit idle in a
    transaction (it would hold back the horizon the next read starts from, and VACUUM), and one the
    server dropped meanwhile (a restart, a network cut) is replaced without a retry or an error."""
    url, conn = loaded
    retries = []
    ingest_all(url, conn)
    database = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(_psycopg(url), autocommit=True) as admin:
        sessions = admin.execute(
            "SELECT pid, state FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'",  # not an autovacuum worker busy on the same database
            [database],
        ).fetchall()
        assert sessions, "no reused connection"  # else the run opens one per table again
        assert all(state == "idle" for _, state in sessions), sessions
        for pid, _ in sessions:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    execute(url, "UPDATE crm.customers SET name = 'Neu GmbH' WHERE customer_id = (SELECT max(customer_id) FROM crm.customers)")  # fmt: skip
    reader = reader_for(url)
    stats = {s.name: ingest_table(reader, conn, s, on_retry=retries.append) for s in load_order()}
    assert retries == [] and stats["customers"].rows_upserted == 1
    _equal(url, conn, "customers")
