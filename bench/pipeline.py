"""The whole pipeline at scale 1 on PostgreSQL: a full materialisation, then an incremental one.

    scripts/bench pipeline [--scale 1]

On a throw-away PostgreSQL 15, through the CLI as a user runs it: `neuroerp seed --scale 1
--create-schema`, then `neuroerp materialize` of everything into an empty warehouse (wall time,
peak RSS of the process, time per asset group from Dagster's step records), then 1 % of the rows
of every mutable table changed at the source and `neuroerp materialize` again: the incremental
run, with the same figures. Targets for the full run: at most 3 minutes and 3 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from bench.ingest import _change_one_percent
from bench.scale1 import a_new_user
from neuroerp.devtools.postgres import settle

RESULTS = Path(__file__).parent / "results"
TARGET_SECONDS = 180
TARGET_RSS_GIB = 3.0


def _neuroerp(env: dict[str, str], *args: str) -> tuple[int, float, float, str]:
    """Run the CLI; exit code, wall seconds, peak RSS (GiB) of the process and what it waited for, output."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "neuroerp"), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, time.perf_counter() - started, usage.ru_maxrss / 2**20, out[-3000:]


def _groups_of_last_run(env: dict[str, str]) -> dict[str, float]:
    """Seconds per asset group of the latest run (its steps run one after another in-process)."""
    import dagster as dg

    from pipelines.definitions import defs

    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    graph = defs.resolve_asset_graph()
    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        step_group: dict[str, str] = {}
        for record in instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records:
            entry = record.event_log_entry
            key = entry.dagster_event.asset_key
            step_group.setdefault(entry.step_key, graph.get(key).group_name if graph.has(key) else "?")
        seconds: dict[str, float] = defaultdict(float)
        for step in instance.get_run_step_stats(run.run_id):
            if step.start_time and step.end_time:
                seconds[step_group.get(step.step_key, "(checks and other steps)")] += step.end_time - step.start_time
    return dict(sorted(seconds.items(), key=lambda item: -item[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    as_of = dt.date.today()
    runs = []
    with a_new_user(as_of) as (env, _):
        url = env["NEUROERP_SOURCE_URL"]
        code, seconds, _, out = _neuroerp(
            env, "seed", "--scale", str(args.scale), "--create-schema", "--as-of", as_of.isoformat()
        )
        if code:
            sys.exit(f"seeding failed:\n{out}")
        settle(url)  # vacuumed and analysed, as a running ERP's database
        print(f"seeded scale {args.scale} in {seconds:.1f} s", flush=True)
        for name in ("full: neuroerp materialize (everything)", "incremental: the same after a 1 % change"):
            changed = _change_one_percent(url) if runs else 0
            code, seconds, rss, out = _neuroerp(env, "materialize")
            if code:
                print(out)
            runs.append({"run": name, "seconds": seconds, "peak_rss_gib": rss, "exit": code, "changed": changed,
                         "groups": _groups_of_last_run(env)})  # fmt: skip
            print(f"{name}: {seconds:.1f} s, peak RSS {rss:.2f} GiB, exit {code}", flush=True)

    print(f"\nScale {args.scale} on PostgreSQL 15, through the CLI (targets for the full run: "
          f"{TARGET_SECONDS} s, {TARGET_RSS_GIB:.0f} GB)")  # fmt: skip
    print(f"{'run':56s} {'s':>7s} {'peak RSS GiB':>12s} {'exit':>4s}")
    print(f"{'-' * 56} {'-' * 7} {'-' * 12} {'-' * 4}")
    for r in runs:
        label = r["run"] + (f" ({r['changed']:,} rows)" if r["changed"] else "")
        print(f"{label:56s} {r['seconds']:7.1f} {r['peak_rss_gib']:12.2f} {r['exit']:4d}")
    groups = list(dict.fromkeys(g for r in runs for g in r["groups"]))
    print(f"\n{'seconds per asset group':30s} {'full':>8s} {'incremental':>12s}")
    print(f"{'-' * 30} {'-' * 8} {'-' * 12}")
    for g in groups:
        print(f"{g:30s} {runs[0]['groups'].get(g, 0):8.1f} {runs[1]['groups'].get(g, 0):12.1f}")
    full = runs[0]
    met = full["exit"] == 0 and full["seconds"] <= TARGET_SECONDS and full["peak_rss_gib"] <= TARGET_RSS_GIB
    print(f"\nfull run: {'within' if met else 'MISSES'} the targets")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pipeline.json").write_text(json.dumps({"scale": args.scale, "runs": runs}, indent=1))
    sys.exit(0 if all(r["exit"] == 0 for r in runs) else 1)


if __name__ == "__main__":
    main()
