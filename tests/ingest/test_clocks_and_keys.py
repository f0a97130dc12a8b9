"""Edge cases from review: clocks that run ahead, keys written in an odd form."""

import datetime as dt
import time

from neuroerp.contract import table
from neuroerp.ingest import QUARANTINE
from tests.ingest.conftest import execute, ingest_all, raw_rows


def _iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def test_a_row_from_the_future_does_not_push_the_watermark_past_now(seeded_sqlite, warehouse):
    ingest_all(seeded_sqlite, warehouse)
    now = dt.datetime.now(dt.UTC)
    # a client whose clock runs twelve hours ahead writes one row ...
    execute(seeded_sqlite, f"UPDATE staff SET name = 'Uhr vor', updated_at = '{_iso(now + dt.timedelta(hours=12))}' "
                           "WHERE staff_id = (SELECT min(staff_id) FROM staff)")  # fmt: skip
    ingest_all(seeded_sqlite, warehouse)
    (watermark,) = warehouse.execute("SELECT watermark FROM ops.ingest_state WHERE table_name = 'staff'").fetchall()[0]
    assert dt.datetime.fromisoformat(watermark.strip('"')) <= dt.datetime.now(dt.UTC)
    # ... and an ordinary update a minute later is still picked up
    execute(seeded_sqlite, f"UPDATE staff SET name = 'Neu', updated_at = '{_iso(now + dt.timedelta(minutes=1))}' "
                           "WHERE staff_id = (SELECT max(staff_id) FROM staff)")  # fmt: skip
    ingest_all(seeded_sqlite, warehouse)
    assert raw_rows(warehouse, table("staff")) == _typed_staff(seeded_sqlite)


def _typed_staff(url):
    # the SQLite source as typed by the ingest: compare through a fresh full read
    import duckdb

    fresh = duckdb.connect()
    ingest_all(url, fresh)
    return raw_rows(fresh, table("staff"))


def test_a_key_in_an_odd_form_waits_in_quarantine_until_fixed(seeded_sqlite, warehouse):
    execute(
        seeded_sqlite,
        "INSERT INTO cash_positions SELECT tenant_id, '2024-1-3', bank_balance, credit_line_limit, "
        "credit_line_rate_pct, updated_at FROM cash_positions LIMIT 1",
    )
    ingest_all(seeded_sqlite, warehouse)
    reasons = warehouse.execute(f"SELECT reasons FROM {QUARANTINE} WHERE source_table = 'cash_positions'").fetchall()
    assert reasons == [("as_of: key 2024-1-3 is not written as 2024-01-03",)]
    # later runs neither churn the row nor lose it
    again = ingest_all(seeded_sqlite, warehouse)["cash_positions"]
    assert again.rows_deleted == 0 and again.rows_upserted == 0
    execute(seeded_sqlite, "UPDATE cash_positions SET as_of = '2024-01-03' WHERE as_of = '2024-1-3'")
    fixed = ingest_all(seeded_sqlite, warehouse)["cash_positions"]
    assert fixed.rows_upserted == 1
    assert warehouse.execute(f"SELECT count(*) FROM {QUARANTINE} WHERE source_table = 'cash_positions'").fetchall() == [
        (0,)
    ]
    import sqlite3

    import sqlalchemy as sa

    with sqlite3.connect(sa.engine.make_url(seeded_sqlite).database) as erp:
        in_source = erp.execute("SELECT count(*) FROM cash_positions").fetchone()[0]
    assert warehouse.execute("SELECT count(*) FROM raw.cash_positions").fetchall() == [(in_source,)]


def test_a_table_first_read_empty_is_read_whole_until_it_has_a_watermark(seeded_sqlite, warehouse):
    import sqlite3

    import sqlalchemy as sa

    path = sa.engine.make_url(seeded_sqlite).database
    with sqlite3.connect(path) as erp:
        erp.execute("CREATE TABLE kept AS SELECT * FROM cash_forecast")
        erp.execute("DELETE FROM cash_forecast")
    first = ingest_all(seeded_sqlite, warehouse, reconcile=False)["cash_forecast"]
    assert first.rows_read == 0 and first.watermark is None
    with sqlite3.connect(path) as erp:
        erp.execute("INSERT INTO cash_forecast SELECT * FROM kept")
        rows = erp.execute("SELECT count(*) FROM cash_forecast").fetchone()[0]
    second = ingest_all(seeded_sqlite, warehouse, reconcile=False)["cash_forecast"]
    assert second.mode == "full" and second.rows_upserted == rows > 0


def test_a_uuid_key_in_capitals_waits_in_quarantine_as_the_warehouse_would_write_it(seeded_sqlite, warehouse):
    """UUIDs are compared in lower case; a key written in capitals could never be matched again."""
    execute(seeded_sqlite, "UPDATE outbox_events SET id = upper(id) WHERE id = (SELECT max(id) FROM outbox_events)")
    ingest_all(seeded_sqlite, warehouse)
    quarantined = f"SELECT reasons FROM {QUARANTINE} WHERE source_table = 'outbox_events'"
    ((reasons,),) = warehouse.execute(quarantined).fetchall()
    key = reasons.split(" ")[2]
    assert key == key.upper() != key.lower() and reasons == f"id: key {key} is not written as {key.lower()}"


def test_a_server_in_another_time_zone_reads_the_same_changes(seeded_sqlite, warehouse, monkeypatch):
    """The incremental bound goes to SQLite as UTC text: on a host set to Tokyo, local time written
    with '+00:00' would put it nine hours late and skip every change of those hours."""
    now = dt.datetime.now(dt.UTC)
    execute(seeded_sqlite, f"UPDATE staff SET updated_at = '{_iso(now - dt.timedelta(minutes=1))}' "
                           "WHERE staff_id = (SELECT min(staff_id) FROM staff)")  # fmt: skip
    ingest_all(seeded_sqlite, warehouse)  # the watermark is a minute ago now
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        execute(seeded_sqlite, f"UPDATE staff SET name = 'Zeitzone', updated_at = '{_iso(now)}' "
                               "WHERE staff_id = (SELECT max(staff_id) FROM staff)")  # fmt: skip
        assert ingest_all(seeded_sqlite, warehouse)["staff"].rows_upserted == 1
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert warehouse.execute("SELECT count(*) FROM raw.staff WHERE name = 'Zeitzone'").fetchall() == [(1,)]
