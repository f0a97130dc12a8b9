"""Freshness benchmark: from an outbox event's commit to the updated cases and scores, with the
real Dagster daemon and `neuroerp simulate` writing into a real PostgreSQL.

    scripts/bench freshness [--scale 0.01] [--minutes 3] [--rate 0.5]

1. Seeds a throw-away PostgreSQL 15 and materialises everything once (`neuroerp materialize`):
   the baseline, what a refresh costs without the sensor, when the hourly run is the only one
   (worst case: an hour plus that run).
2. Starts `dagster-daemon` on the code location (sensors and schedules as they are by default),
   waits for the outbox sensor's first tick, then writes changes for `--minutes` at `--rate`
   per second, each with its outbox event (the simulator), remembering when each committed.
3. For each event, the first successful `outbox_refresh` run whose tick read the source after the
   commit (tag `neuroerp/outbox_read_at`): the time until it wrote the cases, scores and alerts
   (the target: p95 ≤ 60 s; a run builds those first, see `assets/run_order.py`) and until it
   ended. Prints p50, p95 and max of both, and the runs' durations.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from neuroerp.devtools.postgres import throwaway_postgres
from neuroerp.events.simulate import Simulator
from neuroerp.seed import seed_source

ROOT = Path(__file__).resolve().parents[1]
TARGET_P95_S = 60.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=0.5)
    args = parser.parse_args()
    with throwaway_postgres() as server, tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as home:
        env = {
            **os.environ,
            "NEUROERP_HOME": home,
            "DAGSTER_HOME": f"{home}/dagster",
            "NEUROERP_SOURCE_URL": server.url,
        }
        os.environ.update({k: env[k] for k in ("NEUROERP_HOME", "DAGSTER_HOME", "NEUROERP_SOURCE_URL")})
        seed_source(server.url, scale=args.scale, seed=42, create_schema=True)
        neuroerp = str(Path(sys.executable).parent / "neuroerp")
        started = time.monotonic()
        subprocess.run([neuroerp, "materialize"], env=env, check=True, cwd=ROOT, capture_output=True)
        full_run_s = time.monotonic() - started
        print(f"baseline: full materialisation {full_run_s:.0f} s", flush=True)

        from pipelines.instance import running_daemon, shared_instance, wait_for_first_tick

        instance = shared_instance()
        with running_daemon(env, ROOT / "workspace.yaml", Path(home) / "daemon.log"):
            wait_for_first_tick(instance, "outbox_events")
            simulator = Simulator(server.url, seed=7)
            commits: list[tuple[float, str]] = []
            stop_at = time.time() + args.minutes * 60

            def record(event_type: str) -> None:
                commits.append((time.time(), event_type))

            worker = threading.Thread(
                target=simulator.run, args=(args.rate,),
                kwargs={"on_event": record, "should_stop": lambda: time.time() >= stop_at}, daemon=True,
            )  # fmt: skip
            worker.start()
            worker.join()
            last_commit = commits[-1][0]
            latencies, runs = _latencies(instance, commits, deadline=last_commit + 300)
            _report(args, full_run_s, commits, latencies, runs)


@dataclass(frozen=True)
class Refresh:
    read_at: float  # the tick's snapshot of the source
    created: float
    scored: float  # the last of the cases, scores and alerts written
    ended: float


def _refreshes(instance) -> tuple[list[Refresh], int]:
    """Successful outbox refreshes that left nothing pending, in read order; and the failed count."""
    import dagster as dg

    from neuroerp.events.routes import CASES_AND_SCORES
    from sensors.outbox import READ_AT_TAG

    targets = {dg.AssetKey.from_user_string(k) for k in CASES_AND_SCORES}
    records = instance.get_run_records(filters=dg.RunsFilter(job_name="outbox_refresh"))
    done = []
    for record in records:
        run = record.dagster_run
        if run.status != dg.DagsterRunStatus.SUCCESS or READ_AT_TAG not in run.tags:
            continue
        if run.tags.get("neuroerp/outbox_pending") != "none" or not record.end_time:
            continue
        written = [
            e.timestamp
            for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
            if e.dagster_event.asset_key in targets
        ]
        scored = max(written) if written else record.end_time
        done.append(Refresh(float(run.tags[READ_AT_TAG]), record.create_timestamp.timestamp(), scored, record.end_time))
    failed = sum(1 for r in records if r.dagster_run.status == dg.DagsterRunStatus.FAILURE)
    return sorted(done, key=lambda r: r.read_at), failed


def _latencies(instance, commits, deadline: float) -> tuple[list[tuple[float, float]], list[Refresh]]:
    """For each commit, (→ cases and scores written, → run ended) by the first successful refresh
    whose tick read the source after the commit (tag `neuroerp/outbox_read_at`) and left nothing
    pending; waits until each event is covered or the deadline passes."""
    while True:
        runs, failed = _refreshes(instance)
        latencies = []
        for at, _ in commits:
            covering = next((r for r in runs if r.read_at > at), None)
            if covering is None:
                break
            latencies.append((covering.scored - at, covering.ended - at))
        if len(latencies) == len(commits) or time.time() > deadline:
            if failed:
                print(f"{failed} refresh runs failed", flush=True)
            return latencies, runs
        time.sleep(2)


def _report(args, full_run_s: float, commits, latencies: list[tuple[float, float]], runs: list[Refresh]) -> None:
    print()
    print(f"freshness: {len(commits)} events over {args.minutes:g} min at {args.rate:g}/s, scale {args.scale}")
    print("| commit → | p50 s | p95 s | max s | events refreshed |")
    print("|---|---:|---:|---:|---:|")
    for label, values in (
        ("cases and scores written (outbox sensor → outbox_refresh)", [s for s, _ in latencies]),
        ("the refresh run ended", [e for _, e in latencies]),
    ):
        if values:
            print(
                f"| {label} | {statistics.median(values):.1f} | {_percentile(values, 0.95):.1f} | {max(values):.1f} "
                f"| {len(values)} of {len(commits)} |"
            )
    print(f"| hourly run only (baseline, worst case) | | | {3600 + full_run_s:.0f} | |")
    if runs:
        durations = [r.ended - r.created for r in runs]
        to_scores = [r.scored - r.created for r in runs]
        print(
            f"refresh runs: {len(runs)}, created → ended median {statistics.median(durations):.1f} s "
            f"(max {max(durations):.1f} s), created → scores written median {statistics.median(to_scores):.1f} s"
        )
    scored = [s for s, _ in latencies]
    ok = bool(scored) and len(scored) == len(commits) and _percentile(scored, 0.95) <= TARGET_P95_S
    print(f"target p95 ≤ {TARGET_P95_S:.0f} s (commit → cases and scores written): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
