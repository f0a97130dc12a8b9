"""Mutation testing of the SQL rules: how many planted bugs do the rule tests catch?

    scripts/bench mutation [--rule PSM-001 ...] [--kind boundary ...] [--jobs 2] [--timeout 300]

For every compliance rule (a model with a `rule:` header; for a rule that only selects the rows of
one other model, such as FIN-001, that model) each mutant of
`neuroerp/devtools/sql_mutants.py` (a flipped boundary, `and` ↔ `or`, a dropped predicate, an
interval or threshold moved by one unit) is written into a scratch copy of the checkout, and the
rule's tests (`tests/compliance/test_rules.py -k <rule>`) run against it. A mutant is killed when
they fail (or error, or time out), and survives when they pass. Before its mutants, each rule's
re-rendered but unchanged SQL must pass, so a kill is the mutant's doing. Prints the score per rule
and per kind and lists every survivor; the target is 90 % killed. Not part of CI (minutes per
rule); run it before resolving a change to the rules.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from neuroerp.devtools.sql_mutants import EQUIVALENT, mutants, original_text
from neuroerp.project import project_models

ROOT = Path(__file__).resolve().parents[1]
RULE_TESTS = "tests/compliance/test_rules.py"
RESULTS = Path(__file__).parent / "results"
TARGET = 0.90


@dataclass(frozen=True)
class RuleFile:
    rule_id: str
    path: Path  # relative to the checkout: the rule's model, or the one model it only selects from

    @property
    def test_filter(self) -> str:
        return self.rule_id.lower().replace("-", "_")  # PSM-001 → the tests named test_psm_001_...


@dataclass
class Outcome:
    rule_id: str
    kind: str
    description: str
    status: str  # killed, survived, timeout, no tests
    seconds: float


def rule_files() -> list[RuleFile]:
    """Each rule's model. A rule that only passes on the rows of one other SQL model (FIN-001 selects
    from finance.skonto_after_window) has nothing of its own to mutate: that model is mutated instead,
    judged by the rule's tests. A rule over a Python step's table (FIN-002) keeps its empty list."""
    models = {m.relation: m for m in project_models()}
    files = []
    for model in models.values():
        if model.rule is None:
            continue
        source = model
        if next(mutants(model.path.read_text(encoding="utf-8")), None) is None and len(model.upstream) == 1:
            source = models.get(model.upstream[0], model)
        files.append(RuleFile(model.rule.id, source.path.relative_to(ROOT)))
    return files


def scratch_copy(into: Path) -> Path:
    """The checkout's files (tracked and new, not ignored) under `into`."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source, target = ROOT / name, into / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return into


def run_tests(copy: Path, rule: RuleFile, text: str, timeout: float) -> tuple[str, float]:
    (copy / rule.path).write_text(text, encoding="utf-8")
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", RULE_TESTS, "-k", rule.test_filter]
    try:
        result = subprocess.run(command, cwd=copy, env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - started
    status = {0: "survived", 5: "no tests"}.get(result.returncode, "killed")
    return status, time.perf_counter() - started


def mutate_rule(copy: Path, rule: RuleFile, kinds: set[str], timeout: float) -> list[Outcome]:
    text = (ROOT / rule.path).read_text(encoding="utf-8")
    try:
        baseline, seconds = run_tests(copy, rule, original_text(text), timeout)
        if baseline != "survived":
            return [Outcome(rule.rule_id, "-", f"unchanged SQL re-rendered: tests {baseline}", "baseline", seconds)]
        outcomes = []
        for mutant in mutants(text):
            if mutant.kind in kinds:
                status, seconds = run_tests(copy, rule, mutant.text, timeout)
                if status == "survived" and (rule.rule_id, mutant.description) in EQUIVALENT:
                    status = "equivalent"
                outcomes.append(Outcome(rule.rule_id, mutant.kind, mutant.description, status, seconds))
        return outcomes
    finally:
        (copy / rule.path).write_text(text, encoding="utf-8")


def report(outcomes: list[Outcome], wall: float) -> dict:
    per_rule: dict[str, Counter] = defaultdict(Counter)
    per_kind: dict[str, Counter] = defaultdict(Counter)
    for o in outcomes:
        per_rule[o.rule_id][o.status] += 1
        per_kind[o.kind][o.status] += 1

    def row(counts: Counter) -> str:
        killed = counts["killed"] + counts["timeout"]
        return f"{sum(counts.values()):>8}{killed:>8}{counts['survived']:>9}{counts['equivalent']:>7}{score(counts):>7}"

    def score(counts: Counter) -> str:
        judged = counts["killed"] + counts["timeout"] + counts["survived"]
        return f"{(counts['killed'] + counts['timeout']) / judged:.0%}" if judged else "-"

    header = f"{'mutants':>8}{'killed':>8}{'survived':>9}{'equiv.':>7}{'score':>7}"
    print(f"\n{'rule':<12}{header}  note")
    for rule_id, counts in sorted(per_rule.items()):
        note = "baseline failed: not judged" if counts["baseline"] else ("no tests" if counts["no tests"] else "")
        print(f"{rule_id:<12}{row(counts)}  {note}")
    print(f"\n{'kind':<12}{header}")
    for kind, counts in sorted(per_kind.items()):
        if kind != "-":
            print(f"{kind:<12}{row(counts)}")
    total = sum((c for k, c in per_kind.items() if k != "-"), Counter())
    print(f"\nall rules: {score(total)} of mutants killed (target {TARGET:.0%}), {wall:.0f} s")
    survivors = [o for o in outcomes if o.status in ("survived", "equivalent")]
    if survivors:
        print("\nsurvivors (a missing test, or an equivalent mutant to explain):")
        for o in survivors:
            print(f"  {o.rule_id:<10} {o.kind:<9} {o.description}")
            if o.status == "equivalent":
                print(f"             equivalent: {EQUIVALENT[(o.rule_id, o.description)]}")
    return {"wall_s": round(wall, 1), "per_rule": {k: dict(v) for k, v in per_rule.items()},
            "per_kind": {k: dict(v) for k, v in per_kind.items()},
            "survivors": [o.__dict__ for o in survivors]}  # fmt: skip


def main() -> None:
    if "--python" in sys.argv[1:]:  # the Python packages, with mutmut: bench/mutation_python.py
        from bench.mutation_python import main as python_main

        return python_main(sys.argv[1:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rule", action="append", help="rule id, e.g. PSM-001 (repeatable; default: all)")
    parser.add_argument("--kind", action="append", choices=["boundary", "logic", "drop", "shift"])
    parser.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds for one mutant's tests")
    args = parser.parse_args()
    rules = [r for r in rule_files() if not args.rule or r.rule_id in args.rule]
    kinds = set(args.kind or ["boundary", "logic", "drop", "shift"])
    planned = sum(1 for r in rules for m in mutants((ROOT / r.path).read_text(encoding="utf-8")) if m.kind in kinds)
    print(f"{len(rules)} rules, {planned} mutants, {args.jobs} jobs")
    started = time.perf_counter()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="neuroerp-mutation-") as scratch:
        copies = [scratch_copy(Path(scratch) / f"copy{i}") for i in range(args.jobs)]
        free = list(copies)
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:

            def job(rule: RuleFile) -> list[Outcome]:
                copy = free.pop()
                try:
                    return mutate_rule(copy, rule, kinds, args.timeout)
                finally:
                    free.append(copy)

            for done in concurrent.futures.as_completed([pool.submit(job, r) for r in rules]):
                result = done.result()
                outcomes += result
                if result:
                    killed = sum(o.status in ("killed", "timeout") for o in result)
                    print(f"  {result[0].rule_id}: {killed} of {len(result)} killed", flush=True)
    summary = report(outcomes, time.perf_counter() - started)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "mutation.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
