"""The compliance run outside Dagster (tests, benchmarks): the same steps as the asset graph."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import duckdb

from neuroerp.compliance.fingerprints import record_fingerprints, source_fingerprints
from neuroerp.compliance.history import record_scores, record_violations
from neuroerp.compliance.reference_tables import load_reference_tables
from neuroerp.sqlmodels import Model, build

AFTER_VIOLATIONS = ("compliance.violations",)


@dataclass
class ComplianceRun:
    seconds_by_model: dict[str, float] = field(default_factory=dict)
    seconds_state: float = 0.0
    violations: dict[str, int] = field(default_factory=dict)

    @property
    def seconds_rules(self) -> float:
        return sum(s for m, s in self.seconds_by_model.items() if m.startswith("compliance.")) + self.seconds_state


def run_compliance(conn: duckdb.DuckDBPyConnection, source_url: str | None, models: list[Model]) -> ComplianceRun:
    """Reference tables, audit fingerprints (when a source is given), every SQL model in order,
    the violation history and today's scores."""
    run = ComplianceRun()
    now = dt.datetime.now(dt.UTC)
    load_reference_tables(conn)
    if source_url:
        started = time.perf_counter()
        record_fingerprints(conn, source_fingerprints(source_url), now)
        run.seconds_state += time.perf_counter() - started
    needs_violations = _downstream(models, set(AFTER_VIOLATIONS))
    for model in [m for m in models if m.relation not in needs_violations]:
        run.seconds_by_model[model.relation] = build(conn, model).seconds
    started = time.perf_counter()
    run.violations = record_violations(conn, now)
    run.seconds_state += time.perf_counter() - started
    for model in [m for m in models if m.relation in needs_violations]:
        run.seconds_by_model[model.relation] = build(conn, model).seconds
    day = conn.execute("SELECT as_of FROM compliance.settings").fetchall()[0][0]
    record_scores(conn, day, now)
    return run


def _downstream(models: list[Model], roots: set[str]) -> set[str]:
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for m in models:
            if m.relation not in found and any(u in roots | found for u in m.upstream):
                found.add(m.relation)
                changed = True
    return found
