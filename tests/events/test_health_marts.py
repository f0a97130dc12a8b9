"""The saga and event-bus health marts (`dbt_like_sql/events/`) on a real DuckDB warehouse.

Bad inputs tried: sagas just under and over the stuck threshold (and the threshold moved by run
config), finished sagas that are old (never stuck), outbox events unpublished just inside and
outside the grace period, retry counts at and above the limit, one idempotency key on one event
(no reuse) and on two, steps without a known saga.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import duckdb
import pytest

from neuroerp.contract import TABLES
from neuroerp.ingest.types import raw_table_ddl
from neuroerp.project import project_models
from neuroerp.sqlmodels import build, run_test

MODELS = {m.relation: m for m in project_models()}


def ago(minutes: float) -> dt.datetime:
    """Relative to the clock when the row is written (a module-level instant goes stale in a long suite)."""
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)


def add(conn, table: str, **row) -> None:
    cols = ", ".join(f'"{c}"' for c in row)
    conn.execute(f"INSERT INTO raw.{table} ({cols}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))


def saga(conn, saga_type: str, status: str, updated_min: float, took_s: float | None = None, steps=()) -> str:
    saga_id = str(uuid.uuid4())
    started = ago(updated_min + 1)
    completed = started + dt.timedelta(seconds=took_s) if took_s is not None else None
    add(conn, "saga_state", saga_id=saga_id, saga_type=saga_type, current_step="reserve", status=status,
        payload="{}", started_at=started, updated_at=ago(updated_min), completed_at=completed)  # fmt: skip
    for order, (name, step_status, seconds, error) in enumerate(steps, start=1):
        add(conn, "saga_steps", id=str(uuid.uuid4()), saga_id=saga_id, step_name=name, status=step_status,
            execution_order=order, error=error, started_at=started,
            completed_at=started + dt.timedelta(seconds=seconds) if seconds is not None else None,
            compensated_at=ago(0) if step_status == "COMPENSATED" else None)  # fmt: skip
    return saga_id


def event(conn, minutes: float, published: bool, retries: int = 0, key: str | None = None, error=None) -> str:
    event_id = str(uuid.uuid4())
    add(conn, "outbox_events", id=event_id, event_type="payment.received", aggregate_type="payment",
        aggregate_id="p1", payload="{}", metadata=json.dumps({"idempotency_key": key}) if key else None,
        tenant_id="T1", created_at=ago(minutes).replace(tzinfo=None),
        published_at=ago(minutes - 0.1) if published else None, retry_count=retries, last_error=error)  # fmt: skip
    return event_id


@pytest.fixture
def conn(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("CREATE SCHEMA raw")
        for spec in TABLES:
            if spec.domain == "eventbus":
                conn.execute(raw_table_ddl(spec))
        yield conn


def rows(conn, relation: str, variables: dict | None = None) -> list[dict]:
    build(conn, MODELS[relation], variables)
    cursor = conn.execute(f"SELECT * FROM {relation}")
    names = [d[0] for d in cursor.description]
    plain = [[str(v) if isinstance(v, uuid.UUID) else v for v in r] for r in cursor.fetchall()]
    return [dict(zip(names, r, strict=True)) for r in plain]


def check(conn, relation: str, name: str) -> bool:
    (test,) = [t for t in MODELS[relation].tests if t.name == name]
    return run_test(conn, test).passed


def test_stuck_sagas_follow_the_threshold_and_warn(conn):
    stuck = saga(conn, "order", "STARTED", 120, steps=[("reserve", "FAILED", 1, "stock service timeout")])
    compensating = saga(conn, "order", "COMPENSATING", 40)
    saga(conn, "order", "STARTED", 29)  # inside the default 30 minutes
    saga(conn, "order", "COMPLETED", 500, took_s=3)  # old, but finished
    found = {r["saga_id"]: r for r in rows(conn, "events.stuck_sagas")}
    assert set(found) == {stuck, compensating}
    assert found[stuck]["last_step_error"] == "stock service timeout" and found[stuck]["minutes_stuck"] >= 120
    assert not check(conn, "events.stuck_sagas", "no_stuck_sagas")
    assert {r["saga_id"] for r in rows(conn, "events.stuck_sagas", {"stuck_after_minutes": "60"})} == {stuck}


def test_saga_rates_and_step_durations(conn):
    for seconds in (2, 4, 6):
        saga(conn, "payment", "COMPLETED", 10, took_s=seconds, steps=[("book", "SUCCESS", seconds, None)])
    saga(
        conn,
        "payment",
        "FAILED",
        10,
        steps=[("book", "FAILED", 1, "ledger closed"), ("notify", "COMPENSATED", 0.5, None)],
    )
    (rate,) = rows(conn, "events.saga_rates")
    assert (rate["sagas"], rate["completed"], rate["failed"], rate["compensated"]) == (4, 3, 1, 1)
    assert rate["failure_rate"] == pytest.approx(0.25) and rate["compensation_rate"] == pytest.approx(0.25)
    assert rate["avg_seconds_to_complete"] == pytest.approx(4.0)
    steps = {r["step_name"]: r for r in rows(conn, "events.saga_step_durations")}
    assert (steps["book"]["runs"], steps["book"]["failed"], steps["book"]["p50_seconds"]) == (4, 1, pytest.approx(3.0))
    assert steps["book"]["last_error"] == "ledger closed" and steps["notify"]["compensated"] == 1
    assert check(conn, "events.saga_rates", "rates_in_range")


def test_dead_letters_by_age_and_retries_warn(conn):
    stale = event(conn, 20, published=False, error="broker unreachable")
    event(conn, 10, published=False)  # inside the 15-minute grace
    retried = event(conn, 60, published=True, retries=6, error="nack")
    event(conn, 60, published=True, retries=5)  # at the limit, not above it
    both = event(conn, 30, published=False, retries=9)
    found = {r["id"]: r for r in rows(conn, "events.dead_letters")}
    assert {k: v["reason"] for k, v in found.items()} == {
        stale: "unpublished", retried: "too_many_retries", both: "unpublished_and_too_many_retries",
    }  # fmt: skip
    assert found[stale]["last_error"] == "broker unreachable"
    assert not check(conn, "events.dead_letters", "no_dead_letters")
    assert len(rows(conn, "events.dead_letters", {"max_retries": "9", "unpublished_after_minutes": "25"})) == 1


def test_reused_idempotency_keys(conn):
    first = event(conn, 5, published=True, key="k-twice")
    event(conn, 4, published=True, key="k-twice")
    event(conn, 3, published=True, key="k-once")
    add(conn, "idempotency_keys", key="k-twice", event_id=first, processed_at=ago(0))
    (reused,) = rows(conn, "events.reused_idempotency_keys")
    assert (reused["idempotency_key"], reused["events"], reused["processed_event_id"]) == ("k-twice", 2, first)
