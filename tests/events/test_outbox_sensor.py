"""The outbox sensor evaluated by Dagster (`dg.build_sensor_context`) against a real instance and a
real PostgreSQL source: one run per batch with a run key, the retried tick, a refresh in flight,
the source down and back, a 100k-event backlog. The real daemon: `test_daemon_refresh.py`.

Bad inputs tried: event types nothing follows, malformed payloads, a tick retried after its run
went out, a source on a port nobody listens on, 100k events pending at once.
"""

from __future__ import annotations

import time
import uuid

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import DagsterRun

from pipelines.definitions import defs
from sensors import outbox as sensor
from tests.events.outbox_rows import insert, make_source, pg_connect, row

DOWN_URL = "postgresql+psycopg://erp:pw@127.0.0.1:1/erp"


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def tick(instance, url: str, cursor: str | None, **limits) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs, sensor_name="outbox_events")
    return sensor.evaluate(context, url, **limits)


def submitted(instance, request: dg.RunRequest, status=dg.DagsterRunStatus.SUCCESS) -> None:
    """What the daemon records when it launches a requested run."""
    tags = {**request.tags, sensor.RUN_KEY_TAG: request.run_key}
    instance.add_run(DagsterRun(job_name="outbox_refresh", run_id=str(uuid.uuid4()), tags=tags, status=status))


def keys(request: dg.RunRequest) -> set[str]:
    return {k.to_user_string() for k in request.asset_selection}


def test_one_run_per_batch_maps_events_to_assets_and_a_retried_tick_does_not_run_twice(pg_url, instance):
    make_source(pg_url)
    first = tick(instance, pg_url, None)
    assert first.run_requests == [] and "present" in first.skip_reason.skip_message
    insert(pg_url, row("certificate.updated"), row("sales_order.created", payload="{broken"), row("weird.thing"))
    result = tick(instance, pg_url, first.cursor)
    (request,) = result.run_requests
    selected = keys(request)
    assert {"raw/customer_certificates", "raw/sales_order_lines", "raw/outbox_events"} <= selected
    assert {"compliance/current_violations", "compliance/cases", "compliance/area_scores"} <= selected
    # the union evaluates every rule's own SQL: the rules' views get no step of their own
    assert not {k for k in selected if k.startswith(("compliance/psm_0", "compliance/exp_0"))}
    assert {"marts/article_sales_daily", "staging/customer_certificates", "compliance/current_violations"} <= selected
    assert not selected & {"raw/invoices", "finance/skonto_schedule", "inventory/reorder_plan", "raw/articles"}
    assert request.tags["neuroerp/outbox_events"] == "3" and request.tags["neuroerp/outbox_malformed"] == "1"
    assert request.tags[sensor.CURSOR_TAG] == result.cursor
    assert int(request.tags["dagster/priority"]) > 0  # ahead of scheduled runs in the queue and the pool
    # the tick fails before its cursor is stored: evaluated again from the same cursor ...
    again = tick(instance, pg_url, first.cursor)
    assert again.run_requests[0].run_key == request.run_key  # ... the daemon would drop the duplicate
    # ... and once the run went out, the retried tick adopts the run's cursor and requests nothing
    submitted(instance, request)
    insert(pg_url, row("payment.received"))  # arrives meanwhile: belongs to the next run, not lost
    retried = tick(instance, pg_url, first.cursor)
    assert retried.run_requests == [] and retried.cursor == result.cursor
    (following,) = tick(instance, pg_url, retried.cursor).run_requests
    assert following.tags["neuroerp/outbox_events"] == "1"
    assert {"finance/skonto_schedule", "raw/payments"} <= keys(following)
    assert "compliance/fin_001_skonto_after_window" not in keys(following)


def test_a_refresh_in_flight_holds_the_events_for_the_next_run(pg_url, instance):
    make_source(pg_url)
    cursor = tick(instance, pg_url, None).cursor
    insert(pg_url, row("article.updated"))
    result = tick(instance, pg_url, cursor)
    submitted(instance, result.run_requests[0], status=dg.DagsterRunStatus.STARTED)
    insert(pg_url, row("stock.changed"))
    waiting = tick(instance, pg_url, result.cursor)
    assert waiting.run_requests == [] and "in flight" in waiting.skip_reason.skip_message
    assert waiting.cursor is None  # the cursor stays where it was


def test_the_source_down_skips_with_one_line_and_the_next_tick_recovers(pg_url, instance):
    make_source(pg_url)
    cursor = tick(instance, pg_url, None).cursor
    ids = insert(pg_url, row("customer.updated"))
    down = tick(instance, DOWN_URL, cursor)
    message = down.skip_reason.skip_message
    assert down.run_requests == [] and down.cursor is None
    assert "unreachable" in message and "\n" not in message and "pw" not in message.replace("pwd", "")
    back = tick(instance, pg_url, cursor)
    assert back.run_requests[0].tags["neuroerp/outbox_events"] == str(len(ids))


def test_a_100k_backlog_drains_over_ticks_each_well_under_the_tick_timeout(pg_url, instance):
    make_source(pg_url)
    cursor = tick(instance, pg_url, None).cursor
    with pg_connect(pg_url) as conn:
        conn.execute(
            "INSERT INTO eventbus.outbox_events (id, event_type, aggregate_type, aggregate_id, payload, tenant_id,"
            " created_at, retry_count) SELECT gen_random_uuid(), 'sales_order.created', 'sales_order', g::text,"
            " '{}', 'T1', now(), 0 FROM generate_series(1, 100000) AS g"
        )
    total, ticks, slowest = 0, 0, 0.0
    while True:
        started = time.monotonic()
        result = tick(instance, pg_url, cursor)
        slowest = max(slowest, time.monotonic() - started)
        if not result.run_requests:
            break
        (request,) = result.run_requests
        submitted(instance, request)  # finished: the next tick may go on
        total += int(request.tags["neuroerp/outbox_events"])
        cursor, ticks = result.cursor, ticks + 1
    assert total == 100_000 and ticks == 2  # 50k per tick at most
    assert slowest < 30, f"slowest tick {slowest:.1f} s (Dagster's tick timeout: 60 s)"
    assert len(cursor) < 50_000  # the cursor stays small: 1,000 recent ids at most
