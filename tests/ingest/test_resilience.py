"""Crashes mid-ingest, concurrent runs on one warehouse file, a writer holding the lock."""

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import pytest

from neuroerp.contract import TABLES, table
from neuroerp.warehouse import open_with_retry
from tests.ingest.conftest import execute, ingest_all, raw_rows, source_rows

ROOT = Path(__file__).resolve().parents[2]

CRASHING_INGEST = textwrap.dedent(
    """
    import os, signal, sys, duckdb
    from neuroerp.ingest import store
    from tests.ingest.conftest import ingest_all

    url, path, where, after = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    calls = {"n": 0}
    original = getattr(store.IngestStore, where)

    def crashing(self, *args, **kwargs):
        if self.spec.name == "sales_order_lines":
            calls["n"] += 1
            if calls["n"] > after:
                os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no rollback: a real crash
        return original(self, *args, **kwargs)

    setattr(store.IngestStore, where, crashing)
    ingest_all(url, duckdb.connect(path), batch_rows=500)
    """
)


def _crash(url: str, path: Path, where: str, after: int) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CRASHING_INGEST, url, str(path), where, str(after)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == -9, result.stderr  # killed, as planned


@pytest.mark.parametrize(
    "where, after, loaded_before",
    [("add", 3, True), ("_record", 0, True), ("add", 3, False), ("screen", 0, False)],
    ids=["while staging batches", "inside the apply, after raw changed", "during the first load",
         "after the first load wrote raw, before its commit"],
)  # fmt: skip
def test_crash_then_rerun_loses_nothing_and_duplicates_nothing(seeded_pg, tmp_path, where, after, loaded_before):
    path = tmp_path / "warehouse.duckdb"
    if loaded_before:
        with duckdb.connect(str(path)) as conn:
            ingest_all(seeded_pg, conn)  # a first complete load
    execute(
        seeded_pg,
        "UPDATE sales.sales_order_lines SET quantity = quantity + 1, updated_at = now() "
        "WHERE line_id IN (SELECT line_id FROM sales.sales_order_lines ORDER BY line_id LIMIT 3000)",
    )
    _crash(seeded_pg, path, where, after)
    with duckdb.connect(str(path)) as conn:
        lines = table("sales_order_lines")
        # the crash left the previous state: nothing half-applied
        before = conn.execute("SELECT count(*), count(DISTINCT line_id) FROM raw.sales_order_lines").fetchone()
        assert before[0] == before[1]
        stats = ingest_all(seeded_pg, conn)
        if loaded_before:
            assert stats["sales_order_lines"].rows_upserted == 3000
        for spec in TABLES:
            assert raw_rows(conn, spec) == source_rows(seeded_pg, spec), spec.name
        total, distinct = conn.execute("SELECT count(*), count(DISTINCT line_id) FROM raw.sales_order_lines").fetchone()
        assert total == distinct == len(source_rows(seeded_pg, lines))


def test_a_second_writer_waits_for_the_lock_instead_of_failing(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True); "
            "time.sleep(3); c.close()",
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    conn = open_with_retry(path, timeout_s=30)
    waited = time.monotonic() - started
    conn.execute("CREATE TABLE t AS SELECT 1 AS x")
    conn.close()
    holder.wait(timeout=10)
    assert waited > 1.0  # it really waited for the other process


def test_the_wait_gives_up_after_its_timeout(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True); time.sleep(20)",
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(duckdb.IOException, match="lock"):
            open_with_retry(path, timeout_s=1)
    finally:
        holder.kill()


def test_concurrent_materialize_runs_both_succeed(seeded_sqlite, tmp_path):
    home = tmp_path / "home"
    env = {
        **os.environ,
        "NEUROERP_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "NEUROERP_SOURCE_URL": seeded_sqlite,
    }
    neuroerp = Path(sys.executable).parent / "neuroerp"
    results = {}

    def run(name: str, selection: str) -> None:
        results[name] = subprocess.run(
            [str(neuroerp), "materialize", "--select", selection], env=env, capture_output=True, text=True
        )

    threads = [
        threading.Thread(target=run, args=("sales", "group:ingest_sales or group:ingest_inventory")),
        threading.Thread(target=run, args=("finance", "group:ingest_finance or group:ingest_crm")),
        threading.Thread(target=run, args=("everything", "*")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    for name, result in results.items():
        assert result.returncode == 0, f"{name}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        lines = conn.execute("SELECT count(*), count(DISTINCT line_id) FROM raw.sales_order_lines").fetchone()
        assert lines[0] == lines[1] > 0
        runs = conn.execute("SELECT count(*) FROM ops.ingest_runs WHERE table_name = 'customers'").fetchone()[0]
        assert runs == 2  # both runs that select customers did their work, one after the other
