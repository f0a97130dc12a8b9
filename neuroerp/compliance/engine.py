"""The compliance run outside Dagster (tests, benchmarks), in the order the declarations give:
each SQL model after what it reads, each Python step (neuroerp.project.PYTHON_STEPS) likewise.

It fails the way the Dagster run does: a step that fails is recorded, what depends on it is
skipped, everything else still runs, and the run raises at the end. A rule that fails inside
compliance.current_violations is no failed step: the union leaves it out, records it in
compliance.rule_runs, and its area's score goes stale.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from neuroerp.compliance.cases import RECORD_CASES, ledger_folder, record_cases
from neuroerp.compliance.fingerprints import RECORD_FINGERPRINTS, record_fingerprints, source_fingerprints
from neuroerp.compliance.history import RECORD_SCORES, RECORD_VIOLATIONS, record_scores, record_violations
from neuroerp.finance.ibans import CHECK_IBANS, check_supplier_ibans
from neuroerp.inventory.plan import steps_needed as purchasing_steps
from neuroerp.reference.warehouse import LOAD_REFERENCE_TABLES, load_reference_tables
from neuroerp.sqlmodels import MemberOutcome, Model, PythonStep, build, build_order
from neuroerp.warehouse import scalar


def _with_upstream(models: list[Model] | tuple[Model, ...]) -> list[Model]:
    """The models given and the project's models they read, directly or not, that were not given
    (the finance calendar and Skonto model the finance rules select from, say)."""
    from neuroerp.project import project_models  # the project imports this capability's steps

    given = {m.relation for m in models}
    by_relation = {m.relation: m for m in project_models()}
    extra: dict[str, Model] = {}
    pending = [r for m in models for r in m.upstream]
    while pending:
        relation = pending.pop()
        model = by_relation.get(relation)
        if model is not None and relation not in given and relation not in extra and model.schema != "staging":
            extra[relation] = model
            pending += model.upstream
    return [*models, *extra.values()]


class ComplianceRunFailed(RuntimeError):
    """Some steps failed; every step that did not depend on them ran."""


@dataclass
class ComplianceRun:
    seconds_by_model: dict[str, float] = field(default_factory=dict)
    seconds_state: float = 0.0
    seconds_by_step: dict[str, float] = field(default_factory=dict)  # each Python step, by the relation it writes
    violations: dict[str, int] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)  # cases by status
    rules: list[MemberOutcome] = field(default_factory=list)  # each rule's outcome inside the union
    failed: dict[str, str] = field(default_factory=dict)  # step: error
    skipped: list[str] = field(default_factory=list)  # steps not run because something they read failed

    @property
    def seconds_rules(self) -> float:
        return sum(s for m, s in self.seconds_by_model.items() if m.startswith("compliance.")) + self.seconds_state

    @property
    def failed_rules(self) -> list[MemberOutcome]:
        return [r for r in self.rules if not r.ok]


def run_compliance(
    conn: duckdb.DuckDBPyConnection,
    source_url: str | None,
    models: list[Model] | tuple[Model, ...],
    variables: dict[str, str] | None = None,
    raise_on_error: bool = True,
    ledger: Path | None = None,
) -> ComplianceRun:
    """Reference tables, audit fingerprints (when a source is given), every SQL model, the
    violation history, the cases and the day's scores. `variables`: run values for models that
    declare them. `ledger`: the officers' decision ledger folder (default: `ledger/` beside the
    warehouse file, as under NEUROERP_HOME; none for an in-memory warehouse).
    Models of other capabilities that read what a Python step writes get that step too (the
    purchasing forecast and plan, with their default configuration)."""
    run = ComplianceRun()
    now = dt.datetime.now(dt.UTC)

    def timed_state(action: Callable[[], object]) -> object:
        started = time.perf_counter()
        result = action()
        run.seconds_state += time.perf_counter() - started
        return result

    def record_day_scores() -> None:
        record_scores(conn, scalar(conn, "SELECT as_of FROM compliance.settings"), now)

    steps: dict[PythonStep, Callable[[], object]] = {
        LOAD_REFERENCE_TABLES: lambda: load_reference_tables(conn),
        CHECK_IBANS: lambda: check_supplier_ibans(conn),
        RECORD_VIOLATIONS: lambda: run.violations.update(timed_state(lambda: record_violations(conn))),
        RECORD_CASES: lambda: run.cases.update(
            timed_state(lambda: record_cases(conn, ledger or _ledger_beside(conn))).by_status
        ),
        RECORD_SCORES: record_day_scores,
    }
    if source_url:
        steps[RECORD_FINGERPRINTS] = lambda: timed_state(
            lambda: record_fingerprints(conn, source_fingerprints(source_url), now)
        )
    steps |= purchasing_steps(conn, models)
    broken: set[str] = set()  # relations a failed or skipped step should have written
    for node in build_order(_with_upstream(models), list(steps)):
        writes = node.writes
        if broken & set(node.upstream):
            run.skipped.append(node.relation)
            broken |= set(writes)
            continue
        try:
            if isinstance(node, PythonStep):
                started = time.perf_counter()
                steps[node]()
                run.seconds_by_step[node.relation] = time.perf_counter() - started
            else:
                wanted = {k: v for k, v in (variables or {}).items() if k in node.variables}
                built = build(conn, node, wanted, now=now)
                run.seconds_by_model[node.relation] = built.seconds
                run.rules += built.members
        except (duckdb.Error, RuntimeError, ValueError) as exc:
            run.failed[node.relation] = f"{type(exc).__name__}: {exc}"
            broken |= set(writes)
    if run.failed and raise_on_error:
        listed = "; ".join(f"{relation}: {error}" for relation, error in run.failed.items())
        raise ComplianceRunFailed(f"{len(run.failed)} steps failed ({listed}); skipped {run.skipped}")
    return run


def _ledger_beside(conn: duckdb.DuckDBPyConnection) -> Path | None:
    """`ledger/` in the warehouse file's folder (NEUROERP_HOME), or None for an in-memory warehouse."""
    rows = conn.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return ledger_folder(Path(rows[0][0]).parent) if rows and rows[0][0] else None
