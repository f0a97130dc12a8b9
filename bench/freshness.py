"""Freshness benchmark: from an outbox event's commit to the updated cases and scores, with the
real Dagster daemon and `neuroerp simulate` writing into a real PostgreSQL.

    scripts/bench freshness [--scale 0.01] [--minutes 3] [--rate 0.5]

1. Seeds a throw-away PostgreSQL 15 and materialises everything once (`neuroerp materialize`):
   the baseline, what a refresh costs without the sensor, when the hourly run is the only one
   (worst case: an hour plus that run).
2. Starts `dagster-daemon` on the code location (sensors and schedules as they are by default),
   waits for the outbox sensor's first tick, then writes changes for `--minutes` at `--rate`
   per second, each with its outbox event (the simulator), remembering when each committed.
3. For each event: the end of the first successful `outbox_refresh` run whose tick read the source
   after the commit (tag `neuroerp/outbox_read_at`; its selection holds `compliance/cases` and the
   scores). Prints p50, p95 and
   max of commit → refreshed, and the runs' durations, against the target p95 ≤ 60 s.
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


def _latencies(instance, commits, deadline: float) -> tuple[list[float], list[tuple[float, float]]]:
    """Commit → end of the first successful refresh whose tick read the source after the commit
    (tag `neuroerp/outbox_read_at`) and left nothing pending; waits until each event is covered."""
    import dagster as dg

    from sensors.outbox import READ_AT_TAG

    while True:
        records = instance.get_run_records(filters=dg.RunsFilter(job_name="outbox_refresh"))
        runs = sorted(
            (float(r.dagster_run.tags[READ_AT_TAG]), r.create_timestamp.timestamp(), r.end_time)
            for r in records
            if r.dagster_run.status == dg.DagsterRunStatus.SUCCESS
            and r.end_time
            and READ_AT_TAG in r.dagster_run.tags
            and r.dagster_run.tags.get("neuroerp/outbox_pending") == "none"
        )
        latencies = []
        for at, _ in commits:
            covering = next((end for read_at, _, end in runs if read_at > at), None)
            if covering is None:
                break
            latencies.append(covering - at)
        if len(latencies) == len(commits) or time.time() > deadline:
            failed = [r for r in records if r.dagster_run.status == dg.DagsterRunStatus.FAILURE]
            if failed:
                print(f"{len(failed)} refresh runs failed, e.g. {failed[0].dagster_run.run_id}", flush=True)
            return latencies, [(created, end) for _, created, end in runs]
        time.sleep(2)


def _report(args, full_run_s: float, commits, latencies: list[float], runs) -> None:
    durations = [end - created for created, end in runs]
    print()
    print(f"freshness: {len(commits)} events over {args.minutes:g} min at {args.rate:g}/s, scale {args.scale}")
    print("| path | p50 s | p95 s | max s | events refreshed |")
    print("|---|---:|---:|---:|---:|")
    if latencies:
        print(
            f"| outbox sensor → outbox_refresh | {statistics.median(latencies):.1f} | {_percentile(latencies, 0.95):.1f} "
            f"| {max(latencies):.1f} | {len(latencies)} of {len(commits)} |"
        )
    print(f"| hourly run only (baseline, worst case) | | | {3600 + full_run_s:.0f} | |")
    if durations:
        print(f"refresh runs: {len(runs)}, median {statistics.median(durations):.1f} s, max {max(durations):.1f} s")
    ok = bool(latencies) and len(latencies) == len(commits) and _percentile(latencies, 0.95) <= TARGET_P95_S
    print(f"target p95 ≤ {TARGET_P95_S:.0f} s: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
