"""The outbox sensor under the real Dagster daemon (its sensor loop, run queue and run launcher)
against a real PostgreSQL ERP: each committed change reaches the warehouse through one refresh run,
a transaction that began before an earlier-delivered one and commits after it still gets its
refresh, and no batch runs twice.

Bad inputs tried: a transaction left open across refreshes (commits out of order), the scheduled
jobs of the code location running beside the refreshes as they would in production.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from neuroerp import warehouse
from neuroerp.events.simulate import Simulator
from neuroerp.seed import seed_source
from pipelines.instance import running_daemon, shared_instance, wait_for_first_tick
from sensors.outbox import READ_AT_TAG, RUN_KEY_TAG

ROOT = Path(__file__).resolve().parents[2]
REACHED_BY_THESE_EVENTS = "not group:search and not group:report and not group:inventory"
DEADLINE_S = 300  # generous: scheduled runs may take the warehouse meanwhile on a shared 2-core CI machine


@pytest.fixture
def deployment(pg_url, tmp_path, monkeypatch) -> dict[str, str]:
    """A seeded ERP, materialised once (all but search, reports and purchasing, which these events do
    not reach), the environment of a deployment on it."""
    home = tmp_path / "home"
    env = {
        **os.environ,
        "NEUROERP_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "NEUROERP_SOURCE_URL": pg_url,
    }
    for name in ("NEUROERP_HOME", "DAGSTER_HOME", "NEUROERP_SOURCE_URL"):
        monkeypatch.setenv(name, env[name])
    seed_source(pg_url, scale=0.005, seed=42, create_schema=True)
    neuroerp = str(Path(sys.executable).parent / "neuroerp")
    subprocess.run(
        [neuroerp, "materialize", "--select", REACHED_BY_THESE_EVENTS],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    return env


def refreshes(instance) -> list[dg.DagsterRun]:
    return [r.dagster_run for r in instance.get_run_records(filters=dg.RunsFilter(job_name="outbox_refresh"))]


def wait_for_refresh_after(instance, committed_at: float) -> dg.DagsterRun:
    """The first successful refresh whose tick read the source after `committed_at`."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        for run in refreshes(instance):
            if run.status == dg.DagsterRunStatus.SUCCESS and float(run.tags[READ_AT_TAG]) > committed_at:
                return run
        failed = [r.run_id for r in refreshes(instance) if r.status == dg.DagsterRunStatus.FAILURE]
        assert not failed, f"refresh runs failed: {failed}"
        time.sleep(1)
    raise AssertionError(f"no refresh covered the commit at {committed_at} within {DEADLINE_S} s")


def assert_scores_written_before_the_rest(instance, run: dg.DagsterRun) -> None:
    """Officers wait for the cases and scores: the run wrote them before it started a step of the
    marts, finance or event-bus health (`assets/run_order.py`)."""
    order = [e.dagster_event.step_key for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START)]
    scores = order.index("compliance__area_scores")
    later = [k for k in order if k.startswith(("marts__", "events__"))]
    assert later and all(order.index(k) > scores for k in later), order


def outbox_ids(home: str) -> set[str]:
    with warehouse.connect(Path(home) / "warehouse.duckdb", read_only=True) as conn:
        return {str(r[0]) for r in conn.execute("SELECT id FROM raw.outbox_events").fetchall()}


def test_the_daemon_refreshes_each_commit_once_also_one_that_began_earlier_and_committed_later(deployment):
    instance = shared_instance()
    home = deployment["NEUROERP_HOME"]
    with running_daemon(deployment, ROOT / "workspace.yaml", Path(home) / "daemon.log"):
        wait_for_first_tick(instance, "outbox_events")
        simulator = Simulator(deployment["NEUROERP_SOURCE_URL"], seed=7)
        late = simulator.engine.connect()
        late_tx = late.begin()  # began first ...
        simulator.certificate(late, dt.datetime.now(dt.UTC))
        late_id = simulator.unpublished[-1][1]
        with simulator.engine.begin() as conn:  # ... this one began later and commits first
            simulator.sales_order(conn, dt.datetime.now(dt.UTC))
        early_id = simulator.unpublished[-1][1]
        early_at = time.time()

        first = wait_for_refresh_after(instance, early_at)
        assert first.tags["neuroerp/outbox_events"] == "1"
        assert_scores_written_before_the_rest(instance, first)
        seen = outbox_ids(home)
        assert early_id in seen and late_id not in seen

        late_tx.commit()  # the earlier transaction commits last: its event is not skipped
        late.close()
        late_at = time.time()
        second = wait_for_refresh_after(instance, late_at)
        assert late_id in outbox_ids(home)
        assert second.tags["neuroerp/outbox_events"] == "1"  # the early event was not delivered again
        simulator.engine.dispose()

    runs = refreshes(instance)
    keys = [r.tags[RUN_KEY_TAG] for r in runs]
    assert len(keys) == len(set(keys)), "a batch ran twice"
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    with warehouse.connect(Path(home) / "warehouse.duckdb", read_only=True) as conn:
        evaluated = conn.execute("SELECT max(evaluated_at) FROM compliance.rule_runs").fetchall()[0][0]
    assert evaluated.timestamp() > late_at  # the rules were evaluated after the last commit
