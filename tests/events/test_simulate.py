"""`neuroerp simulate`: a live ERP writing changes with their outbox events into a seeded source.

Bad inputs tried: an empty (unseeded) source, a stop by Ctrl-C (SIGINT) mid-run; the rows it
writes go through the real ingest (contract validation) without a single quarantined row.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from neuroerp.contract import load_order, table
from neuroerp.events.outbox import read_batch
from neuroerp.events.simulate import Simulator, SimulatorError
from neuroerp.ingest import IngestOptions, ingest_table, reader_for
from neuroerp.seed import seed_source
from neuroerp.source.database import create_source_engine, qualified_name
from tests.conftest import AS_OF, SEED
from tests.events.outbox_rows import make_source


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_simulator_writes_changes_the_outbox_and_the_ingest_accept(dialect, sqlite_url, pg_url, tmp_path):
    url = sqlite_url if dialect == "sqlite" else pg_url
    seed_source(url, scale=0.01, seed=SEED, as_of=AS_OF, create_schema=True)
    start = read_batch(url, None).cursor
    written = Simulator(url, seed=3).run(rate=1000, max_events=40)
    assert sum(written.values()) == 40 and set(written) == {
        "sales_order.created",
        "certificate.updated",
        "payment.received",
    }
    events = read_batch(url, start).events
    assert Counter(e.event_type for e in events) == written  # each change with exactly one event
    assert not [e for e in events if e.problem]
    payloads = [json.loads(p) for p in source_payloads(url, [e.id for e in events])]
    orders = [p["order_id"] for p in payloads if "lines" in p]
    lines = sum(len(p["lines"]) for p in payloads if "lines" in p)
    keys = orders + [p["payment_id"] for p in payloads if "payment_id" in p]
    keys += [p["certificate_id"] for p in payloads if "certificate_id" in p]
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        reader = reader_for(url)
        for spec in load_order():
            ingest_table(reader, conn, spec, IngestOptions())
        rejected = conn.execute(
            "SELECT source_table, reasons FROM quarantine.rejected_rows WHERE source_pk IN (SELECT unnest(?))", [keys]
        ).fetchall()
        assert rejected == []
        assert (
            conn.execute(
                "SELECT count(*) FROM raw.sales_order_lines WHERE order_id IN (SELECT unnest(?))", [orders]
            ).fetchone()[0]
            == lines
        )
        published = conn.execute(
            "SELECT count(*) FROM raw.outbox_events WHERE id::text IN (SELECT unnest(?)) AND published_at IS NOT NULL",
            [[e.id for e in events]],
        ).fetchone()[0]
    assert published == 40  # the simulated publisher marked every event it wrote


def source_payloads(url: str, ids: list[str]) -> list[str]:
    engine = create_source_engine(url)
    name = qualified_name(engine.dialect.name, table("outbox_events"))
    with engine.connect() as conn:
        wanted = set(ids)
        found = [r[1] for r in conn.execute(sa.text(f"SELECT id, payload FROM {name}")) if str(r[0]) in wanted]
    engine.dispose()
    return found


def test_an_unseeded_source_is_refused_with_a_reason(sqlite_url):
    make_source(sqlite_url)
    with pytest.raises(SimulatorError, match="seed it first"):
        Simulator(sqlite_url)


def test_the_command_stops_cleanly_on_ctrl_c(sqlite_url, tmp_path):
    seed_source(sqlite_url, scale=0.01, seed=SEED, as_of=AS_OF, create_schema=True)
    env = {**os.environ, "NEUROERP_HOME": str(tmp_path / "home"), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    neuroerp = Path(sys.executable).parent / "neuroerp"
    proc = subprocess.Popen(
        [str(neuroerp), "simulate", "--rate", "50", "--source-url", sqlite_url],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    start = read_batch(sqlite_url, None).cursor
    deadline = time.monotonic() + 60
    while not read_batch(sqlite_url, start).events and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert "stopped" in output and "wrote" in output and "Traceback" not in output
    assert read_batch(sqlite_url, start).events
