"""The Dagster instance the CLI and the UI share: its configuration, and runs whose process died.

`dagster.yaml` is written under DAGSTER_HOME when absent: the pool `duckdb_warehouse` (every asset
that writes the warehouse) admits one step at a time across runs, so concurrent runs take turns
instead of waiting on DuckDB's file lock. A CLI run killed mid-step would keep its slot forever,
so the next CLI run fails such runs first and frees what they held. The daemon (sensors, schedules,
queued runs) is started by `dg dev`, or by `running_daemon` in tests and benchmarks.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

DAGSTER_YAML = """\
# Written by neuroerp on first use; edit freely.
telemetry:
  enabled: false
# The DuckDB warehouse admits one writer: steps in the pool duckdb_warehouse take turns across runs.
concurrency:
  pools:
    default_limit: 1
# Give back what runs that ended (failed, cancelled) still hold.
run_monitoring:
  enabled: true
  free_slots_after_run_end_seconds: 30
# The daemon starts queued runs (the outbox sensor's refreshes) within a second, not five.
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
"""
# what earlier versions wrote: replaced, since nobody edited them
EARLIER_YAMLS = (
    "# Written by neuroerp on first use; edit freely.\ntelemetry:\n  enabled: false\n",
    DAGSTER_YAML.split("# The daemon starts queued runs")[0],
)
HOST_TAG, PROCESS_TAG = "neuroerp/host", "neuroerp/process"
ACTIVE = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.NOT_STARTED]


def write_config(dagster_home: Path) -> Path:
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"
    if not config.exists() or config.read_text(encoding="utf-8") in EARLIER_YAMLS:
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return config


@contextlib.contextmanager
def _exclusive(lock_path: Path):
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def shared_instance() -> dg.DagsterInstance:
    """The instance under DAGSTER_HOME, configured; the first opening (which creates its storage)
    is serialised across processes, so concurrent CLI runs on a fresh home do not race."""
    home = Path(os.environ["DAGSTER_HOME"])
    write_config(home)
    with _exclusive(home / ".instance.lock"):
        return dg.DagsterInstance.get()


def process_identity(pid: int | None = None) -> str:
    """pid plus the process's start time, so a reused pid is not taken for the run's process."""
    pid = pid or os.getpid()
    try:
        started = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        started = "?"
    return f"{pid}:{started}"


def run_tags() -> dict[str, str]:
    return {HOST_TAG: socket.gethostname(), PROCESS_TAG: process_identity()}


def _alive(identity: str) -> bool:
    pid, _, _ = identity.partition(":")
    if not pid.isdigit():
        return True  # not ours to judge
    return process_identity(int(pid)) == identity


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark CLI runs on this host whose process is gone as failed and free their pool slots."""
    orphaned = []
    records = instance.get_run_records(
        dg.RunsFilter(statuses=ACTIVE, tags={HOST_TAG: socket.gethostname()}), limit=1000
    )
    for record in records:
        run = record.dagster_run
        identity = run.tags.get(PROCESS_TAG)
        if identity and not _alive(identity):
            instance.report_run_failed(run, f"the process that ran it ({identity}) ended without finishing it")
            if instance.event_log_storage.supports_global_concurrency_limits:
                instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            orphaned.append(run.run_id)
    return orphaned


@contextlib.contextmanager
def running_daemon(env: dict[str, str], workspace: Path, log_path: Path) -> Iterator[subprocess.Popen]:
    """`dagster-daemon run` on the workspace (its sensors and schedules as they are by default),
    stopped when the block ends; its output goes to `log_path`."""
    daemon_bin = Path(sys.executable).parent / "dagster-daemon"
    with open(log_path, "w") as log:
        daemon = subprocess.Popen(
            [str(daemon_bin), "run", "-w", str(workspace)],
            env=env, cwd=workspace.parent, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            yield daemon
        finally:
            daemon.terminate()
            try:
                daemon.wait(30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()


def wait_for_first_tick(instance: dg.DagsterInstance, sensor_name: str, timeout_s: float = 180) -> None:
    """Until the daemon has evaluated the sensor once (a skipped or successful tick)."""
    from dagster._core.scheduler.instigation import TickStatus

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        states = [s for s in instance.all_instigator_state() if s.name == sensor_name]
        if states:
            ticks = instance.get_ticks(states[0].instigator_origin_id, states[0].selector_id, limit=1)
            if ticks and ticks[0].status in (TickStatus.SKIPPED, TickStatus.SUCCESS):
                return
        time.sleep(1)
    raise RuntimeError(f"the sensor {sensor_name} never ticked within {timeout_s:.0f} s: is the daemon running?")
