"""Raw equals the source, exactly typed, after a full load and after incremental runs."""

import uuid

import pytest
import sqlalchemy as sa

from neuroerp.contract import TABLES, load_order, table
from neuroerp.source.database import create_source_engine, qualified_name
from tests.ingest.conftest import execute, ingest_all, raw_rows, source_rows


def test_full_load_from_postgres_equals_the_source(seeded_pg, warehouse):
    stats = ingest_all(seeded_pg, warehouse)
    for spec in TABLES:
        assert stats[spec.name].mode == "full"
        assert stats[spec.name].rows_quarantined == 0, (spec.name, stats[spec.name].reasons)
        assert raw_rows(warehouse, spec) == source_rows(seeded_pg, spec), spec.name


def test_raw_columns_carry_the_contract_types(seeded_pg, warehouse):
    ingest_all(seeded_pg, warehouse)
    for spec in TABLES:
        described = warehouse.execute(f"DESCRIBE raw.{spec.name}").fetchall()
        assert [(r[0], r[1]) for r in described] == [(c.name, c.type.duckdb_type) for c in spec.columns]
    # money stays exact: the sum in the warehouse is the sum in the source, to the cent
    total = warehouse.execute("SELECT sum(gross_amount)::VARCHAR FROM raw.invoices").fetchone()[0]
    assert total == str(sum(r[8] for r in source_rows(seeded_pg, table("invoices"))))


def test_second_run_moves_nothing(seeded_pg, warehouse):
    ingest_all(seeded_pg, warehouse)
    again = ingest_all(seeded_pg, warehouse)
    for spec in TABLES:
        assert again[spec.name].rows_upserted == 0, spec.name
        assert again[spec.name].rows_deleted == 0, spec.name
    lines = again["sales_order_lines"]
    assert lines.mode == "incremental" and lines.rows_read < 100  # only the overlap window


def _bump(url: str, sql: str) -> None:
    execute(url, sql.replace("NOW()", "now()"))


def test_updates_soft_and_hard_deletes_and_inserts_are_picked_up(seeded_pg, warehouse):
    ingest_all(seeded_pg, warehouse)
    execute(
        seeded_pg,
        # updates: price change on ten articles
        "UPDATE inventory.articles SET list_price = list_price + 1, updated_at = now() "
        "WHERE article_id IN (SELECT article_id FROM inventory.articles ORDER BY article_id LIMIT 10)",
        # soft delete
        "UPDATE crm.customers SET deleted_at = now(), updated_at = now() "
        "WHERE customer_id = (SELECT min(customer_id) FROM crm.customers WHERE deleted_at IS NULL)",
        # hard deletes: lines of one order and a payment
        "DELETE FROM sales.sales_order_lines WHERE order_id = (SELECT min(order_id) FROM sales.sales_order_lines)",
        "DELETE FROM finance.payments WHERE payment_id = (SELECT min(payment_id) FROM finance.payments)",
        # inserts: a new stock movement and a new audit row
        "INSERT INTO inventory.stock_movements SELECT 'new-move', tenant_id, article_id, warehouse_id, -1, 'sale', "
        "now(), NULL FROM inventory.stock_movements LIMIT 1",
        "INSERT INTO audit.audit_log SELECT max(seq) + 1, 'lh-nord', now(), 'test', 'login', 'staff', 's', "
        "NULL, NULL, NULL, NULL, NULL FROM audit.audit_log",
    )
    deleted_lines = ingest_all(seeded_pg, warehouse)
    assert deleted_lines["articles"].rows_upserted == 10
    assert deleted_lines["customers"].rows_upserted == 1
    assert deleted_lines["sales_order_lines"].rows_deleted >= 1
    assert deleted_lines["payments"].rows_deleted == 1
    assert deleted_lines["stock_movements"].rows_upserted == 1
    assert deleted_lines["audit_log"].rows_upserted == 1
    for spec in TABLES:
        assert raw_rows(warehouse, spec) == source_rows(seeded_pg, spec), spec.name
    soft = warehouse.execute("SELECT count(*) FROM raw.customers WHERE deleted_at IS NOT NULL").fetchone()[0]
    assert soft >= 1


def test_a_row_committed_behind_the_window_is_not_lost(seeded_pg, warehouse):
    ingest_all(seeded_pg, warehouse)
    # a long transaction commits a row whose updated_at is a day older than the watermark
    execute(
        seeded_pg,
        "INSERT INTO crm.consents SELECT 'late-consent', tenant_id, customer_id, 'data_sharing', "
        "now() - interval '2 days', NULL, 'Formular', now() - interval '1 day' FROM crm.customers LIMIT 1",
    )
    stats = ingest_all(seeded_pg, warehouse)
    assert stats["consents"].rows_upserted == 1
    assert warehouse.execute("SELECT count(*) FROM raw.consents WHERE consent_id = 'late-consent'").fetchone()[0] == 1


def test_outbox_changes_without_a_marker_are_found(seeded_pg, warehouse):
    ingest_all(seeded_pg, warehouse)
    event = str(uuid.uuid4())
    execute(
        seeded_pg,
        "UPDATE eventbus.outbox_events SET published_at = now(), retry_count = retry_count + 1 "
        "WHERE id = (SELECT id FROM eventbus.outbox_events WHERE published_at IS NULL LIMIT 1)",
        f"INSERT INTO eventbus.outbox_events VALUES ('{event}', 'customer.updated', 'customer', 'c', '{{}}', NULL, "
        "'lh-nord', now() - interval '1 hour', NULL, 0, NULL)",
    )
    stats = ingest_all(seeded_pg, warehouse)["outbox_events"]
    assert stats.rows_upserted == 2
    assert raw_rows(warehouse, table("outbox_events")) == source_rows(seeded_pg, table("outbox_events"))


def test_full_refresh_rereads_everything_but_changes_nothing(seeded_pg, warehouse):
    ingest_all(seeded_pg, warehouse)
    stats = ingest_all(seeded_pg, warehouse, full_refresh=True)
    assert stats["sales_order_lines"].mode == "full"
    assert stats["sales_order_lines"].rows_read == stats["sales_order_lines"].rows_ok > 5000
    assert all(s.rows_upserted == 0 for s in stats.values())


@pytest.mark.parametrize("batch_rows", [997])
def test_small_batches_give_the_same_result(seeded_pg, warehouse, batch_rows):
    stats = ingest_all(seeded_pg, warehouse, batch_rows=batch_rows)
    assert stats["sales_order_lines"].rows_read > 5 * batch_rows
    spec = table("sales_order_lines")
    assert raw_rows(warehouse, spec) == source_rows(seeded_pg, spec)


def test_sqlite_source_equals_the_generated_data(seeded_sqlite, warehouse, dataset):
    from neuroerp.source.writer import to_contract_types

    stats = ingest_all(seeded_sqlite, warehouse)
    for spec in load_order():
        assert stats[spec.name].rows_quarantined == 0, (spec.name, stats[spec.name].reasons)
        expected = to_contract_types(dataset.table(spec.name), spec).rows()
        from tests.ingest.conftest import normalised

        assert raw_rows(warehouse, spec) == normalised(expected, spec), spec.name


def test_timestamps_are_utc_instants(seeded_pg, warehouse):
    ingest_all(seeded_pg, warehouse)
    warehouse.execute("SET TimeZone = 'Europe/Berlin'")  # how an analyst's session may look
    raw = dict(warehouse.execute("SELECT invoice_id, posted_at FROM raw.invoices").fetchall())
    for row in source_rows(seeded_pg, table("invoices"))[:50]:
        assert raw[row[0]] == row[14] and raw[row[0]].utcoffset() is not None


# Tables without a change marker (no updated_at): a read of the whole table (SQLite) or of the
# changed row versions (PostgreSQL) must still carry a row's deletion into raw.
UNMARKED = {"outbox_events": "id", "saga_steps": "id", "event_locks": "lock_id", "idempotency_keys": "key"}


@pytest.mark.parametrize("source", ["seeded_pg", "seeded_sqlite"])
def test_rows_deleted_from_tables_without_a_change_marker_leave_raw(source, warehouse, request):
    url = request.getfixturevalue(source)
    ingest_all(url, warehouse)
    statements = []
    for name, key in UNMARKED.items():
        spec = table(name)
        assert spec.watermark_column is None, name
        relation = spec.qualified_name if source == "seeded_pg" else name
        statements.append(
            f'DELETE FROM {relation} WHERE "{key}" IN (SELECT "{key}" FROM {relation} ORDER BY "{key}" LIMIT 2)'
        )
    execute(url, *statements)
    again = ingest_all(url, warehouse)
    for name, key in UNMARKED.items():
        assert again[name].rows_deleted == 2, name
        in_raw = {str(k) for (k,) in warehouse.execute(f'SELECT "{key}" FROM raw.{name}').fetchall()}
        assert in_raw == _source_keys(url, name, key), name


def _source_keys(url: str, name: str, key: str) -> set[str]:
    engine = create_source_engine(url)
    with engine.connect() as conn:
        keys = conn.execute(sa.text(f'SELECT "{key}" FROM {qualified_name(engine.dialect.name, table(name))}')).all()
    engine.dispose()
    return {str(k) for (k,) in keys}
