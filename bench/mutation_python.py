"""Mutation testing of the Python packages with mutmut 3: how many planted bugs do their tests catch?

    scripts/bench mutation --python ingest [--python events ...] [--sample 100]
    scripts/bench mutation --python events --rerun-survivors     # after new tests: only last run's survivors

For each package (`neuroerp.devtools.py_mutants.PACKAGES`) in a scratch copy of the checkout:
mutmut writes every mutant of the package's modules (comparison and boolean operators flipped,
numbers +1, strings changed, arguments and assigned values replaced by None, keywords swapped),
leaving out noise (see `NOISE_DESCRIPTION`). Where a package has more mutants than `--sample`,
a fixed-seed sample is run, and the output says so with the sample's 95 % interval. mutmut's stats
run calls the package's tests once and records which tests call each function; every mutant then
runs only those tests (`-x`, forked from the warm process), against one throw-away PostgreSQL
started for the whole run. A mutant is killed when its tests fail or time out, survives when they
pass, and has no tests when no selected test calls its function (counted as not killed).
While the folder named by NEUROERP_BENCH_QUIET_DIR holds a file (a benchmark measuring on the same
machine), mutmut and its workers are stopped
(SIGSTOP) and continued after; it runs with nice 10 and one worker. Prints the score per package, per module and per kind and
lists every survivor with its diff; equivalent survivors (`EQUIVALENT`) are shown and left out of
the score. Results: bench/results/mutation-python-<package>.json. Not part of CI (minutes per package).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from neuroerp.devtools.postgres import throwaway_postgres
from neuroerp.devtools.py_mutants import (
    NOISE_DESCRIPTION,
    PACKAGES,
    Package,
    changed_lines,
    equivalence_of,
    function_of,
    is_noise,
    kind_of,
    mutmut_config,
    sample,
    wilson,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
TARGET = 0.75
QUIET = Path(os.environ.get("NEUROERP_BENCH_QUIET_DIR", "/nonexistent"))
ALSO_COPY = ["assets/", "pipelines/", "sensors/", "dbt_like_sql/", "bench/", "scripts/"]
KILLED = {"killed", "timeout"}


def pause_in_quiet_windows(mutmut: subprocess.Popen) -> None:
    """Wait for mutmut; while someone measures (a file in the quiet folder) it is stopped, all of
    its processes, and continued after. A mutant whose tests were stopped past their time limit
    comes back as a timeout, and timeouts are judged again afterwards (`recheck_timeout`)."""
    stopped_since = None
    while mutmut.poll() is None:
        quiet = QUIET.is_dir() and any(QUIET.iterdir())
        if quiet and stopped_since is None:
            os.killpg(mutmut.pid, signal.SIGSTOP)
            stopped_since = time.monotonic()
            print("  quiet window: mutmut paused …", flush=True)
        elif not quiet and stopped_since is not None:
            os.killpg(mutmut.pid, signal.SIGCONT)
            print(f"  … resumed after {time.monotonic() - stopped_since:.0f} s", flush=True)
            stopped_since = None
        time.sleep(5)


def _env(copy: Path, pg_url: str, mutants_on_path: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MUTANT_UNDER_TEST")}
    env["NEUROERP_TEST_PG_URL"] = pg_url
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if mutants_on_path:  # subprocesses the tests start (the CLI) import the mutated code too
        env["PYTHONPATH"] = str(copy / "mutants")
    return env


def _mutmut() -> list[str]:
    return ["nice", "-n", "10", str(Path(sys.executable).with_name("mutmut"))]


def listed(copy: Path, env: dict[str, str], what: str = "list") -> list[dict]:
    """mutmut's records in the scratch copy: every mutant with its status (`list`: and its diff)."""
    out = subprocess.run([sys.executable, "-m", "neuroerp.devtools.py_mutants", what], cwd=copy, env=env,
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return json.loads(out)


def recheck_timeout(copy: Path, env: dict[str, str], name: str, limit: float = 300.0) -> str:
    """A timeout in a forked worker may be a lock the fork inherited rather than the mutant's
    doing: run its tests once more in a fresh process, with a generous limit, and judge by that."""
    tests = subprocess.run([*_mutmut(), "tests-for-mutant", name], cwd=copy, env=env, capture_output=True,
                           text=True).stdout.split()  # fmt: skip
    command = ["nice", "-n", "10", sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    try:
        done = subprocess.run(command, cwd=copy / "mutants", env={**env, "MUTANT_UNDER_TEST": name},
                              capture_output=True, timeout=limit)  # fmt: skip
    except subprocess.TimeoutExpired:
        return "timeout"
    return "survived" if done.returncode == 0 else "killed"


def run_package(package: Package, size: int, only: set[str] | None, pg_url: str, log: Path) -> dict:
    from bench.mutation import scratch_copy

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"neuroerp-mutmut-{package.name}-") as scratch:
        copy = scratch_copy(Path(scratch))
        with (copy / "pyproject.toml").open("a", encoding="utf-8") as f:
            f.write(mutmut_config(package, ALSO_COPY))
        env = _env(copy, pg_url, mutants_on_path=False)
        subprocess.run([sys.executable, "-m", "neuroerp.devtools.py_mutants", "generate"], cwd=copy, env=env,
                       capture_output=True, check=True)  # fmt: skip
        everything = listed(copy, env)
        noise = [m for m in everything if is_noise(m["diff"])]
        candidates = [m["name"] for m in everything if not is_noise(m["diff"])]
        chosen = sorted(only & set(candidates)) if only is not None else sample(candidates, size)
        print(f"{package.name}: {len(everything)} mutants, {len(noise)} noise dropped, {len(candidates)} left; "
              f"running {len(chosen)}{' (a sample, seed 18)' if len(chosen) < len(candidates) else ''}", flush=True)  # fmt: skip
        env = _env(copy, pg_url, mutants_on_path=True)
        with log.open("a", encoding="utf-8") as out:
            mutmut = subprocess.Popen([*_mutmut(), "run", "--max-children", "1", *chosen], cwd=copy, env=env,
                                      stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
            try:
                pause_in_quiet_windows(mutmut)
            finally:  # stopped early: its fork server and workers go too
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(mutmut.pid, signal.SIGKILL)
        status = {m["name"]: m["status"] for m in listed(copy, env, "status")}
        for name in [n for n in chosen if status[n] == "timeout"]:
            status[name] = recheck_timeout(copy, env, name)
    diffs = {m["name"]: m["diff"] for m in everything}
    rows = [{"name": n, "status": status[n], "diff": diffs[n]} for n in chosen]
    for row in rows:
        row["function"] = function_of(row["name"])
        row["kind"] = kind_of(row["diff"])
        row["equivalent"] = equivalence_of(row["name"], row["diff"]) if row["status"] not in KILLED else None
    return {"package": package.name, "mutants": len(everything), "noise": len(noise), "candidates": len(candidates),
            "sampled": len(chosen) < len(candidates), "rows": rows, "wall_s": round(time.perf_counter() - started, 1)}  # fmt: skip


def _score(rows: list[dict]) -> tuple[int, int, str]:
    judged = [r for r in rows if not r.get("equivalent") and r["status"] in KILLED | {"survived", "no tests"}]
    killed = sum(r["status"] in KILLED for r in judged)
    return killed, len(judged), f"{killed / len(judged):.0%}" if judged else "-"


def report(result: dict) -> None:
    rows = result["rows"]
    print(f"\n{result['package']}: {result['mutants']} mutants, {result['noise']} noise, {len(rows)} run"
          f"{' (sample)' if result['sampled'] else ''}, {result['wall_s']:.0f} s")  # fmt: skip
    for title, key in (("module", lambda r: r["function"].split(".")[0]), ("kind", lambda r: r["kind"])):
        groups: dict[str, list[dict]] = defaultdict(list)
        for r in rows:
            groups[key(r)].append(r)
        print(f"\n{title:<14}{'mutants':>8}{'killed':>8}{'survived':>9}{'no tests':>9}{'equiv.':>7}{'score':>7}")
        for name, group in sorted(groups.items()):
            counts = Counter(r["status"] for r in group)
            killed, _, score = _score(group)
            equivalent = sum(bool(r.get("equivalent")) for r in group)
            print(f"{name:<14}{len(group):>8}{killed:>8}{counts['survived']:>9}{counts['no tests']:>9}"
                  f"{equivalent:>7}{score:>7}")  # fmt: skip
    killed, judged, score = _score(rows)
    low, high = wilson(killed, judged)
    interval = (
        f", 95 % interval {low:.0%}–{high:.0%} (sample of {len(rows)} of {result['candidates']})"
        if result["sampled"]
        else ""
    )
    print(f"\n{result['package']}: {score} of mutants killed ({killed} of {judged}){interval}; target {TARGET:.0%}")
    other = Counter(r["status"] for r in rows if r["status"] not in KILLED | {"survived", "no tests"})
    if other:
        print(f"  not judged: {dict(other)}")
    survivors = [r for r in rows if r["status"] in ("survived", "no tests")]
    if survivors:
        print("\nsurvivors (a missing test, or an equivalent mutant to explain):")
        for r in survivors:
            removed, added = changed_lines(r["diff"])
            tag = "equivalent" if r.get("equivalent") else r["status"]
            print(f"  {r['name'].split('.')[-1]:<40} {r['function']:<36} {r['kind']:<11} {tag}")
            for line in removed:
                print(f"      - {line.strip()}")
            for line in added:
                print(f"      + {line.strip()}")
            if r.get("equivalent"):
                print(f"      equivalent: {r['equivalent']}")


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", action="append", required=True, choices=sorted(PACKAGES), metavar="PACKAGE",
                        help=f"package under neuroerp/ (repeatable): {', '.join(sorted(PACKAGES))}")  # fmt: skip
    parser.add_argument("--sample", type=int, default=100, help="mutants per package at most (0: all)")
    parser.add_argument("--mutant", action="append", help="run only this mutant (repeatable)")
    parser.add_argument("--rerun-survivors", action="store_true",
                        help="run only the survivors of the last results file; its killed ones stay killed")  # fmt: skip
    args = parser.parse_args(argv)
    print(f"noise filter: {NOISE_DESCRIPTION}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `kill` stops the server and mutmut too
    RESULTS.mkdir(exist_ok=True)
    log = RESULTS / "mutation-python.log"
    log.write_text("", encoding="utf-8")
    with throwaway_postgres() as pg:
        for name in args.python:
            package = PACKAGES[name]
            path = RESULTS / f"mutation-python-{name}.json"
            previous = json.loads(path.read_text(encoding="utf-8")) if args.rerun_survivors and path.exists() else None
            only = set(args.mutant) if args.mutant else None
            if previous:
                only = {r["name"] for r in previous["rows"] if r["status"] not in KILLED}
            result = run_package(package, args.sample, only, pg.url, log)
            if previous:  # the earlier kills stand: tests were only added
                rerun = {r["name"] for r in result["rows"]}
                result["rows"] = [r for r in previous["rows"] if r["name"] not in rerun] + result["rows"]
                result["sampled"] = previous["sampled"]
            report(result)
            path.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"\nmutmut's output: {log}")


if __name__ == "__main__":
    main()
