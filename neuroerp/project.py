"""This project's SQL models (`dbt_like_sql/`) and the Python steps around them.

The warehouse relations that Python writes (the ingest, the source profile, reference data and
the stateful compliance steps) are declared next to their code; here they are collected, so the
SQL loader knows what a model may read and the build order follows from the declarations.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

from neuroerp.compliance.cases import RECORD_CASES
from neuroerp.compliance.fingerprints import RECORD_FINGERPRINTS
from neuroerp.compliance.history import RECORD_SCORES, RECORD_VIOLATIONS
from neuroerp.contract import TABLES, parents
from neuroerp.finance.ibans import CHECK_IBANS
from neuroerp.finance.schedule import PLAN_SKONTO
from neuroerp.ingest.store import WRITES as INGEST_WRITES
from neuroerp.inventory.plan import DEMAND_FORECAST, REORDER_PLAN
from neuroerp.reference.warehouse import LOAD_REFERENCE_TABLES
from neuroerp.source.profile import PROFILE
from neuroerp.sqlmodels import Model, PythonStep, load_models, producers

SQL_ROOT = Path(__file__).resolve().parents[1] / "dbt_like_sql"
PYTHON_STEPS: tuple[PythonStep, ...] = (
    LOAD_REFERENCE_TABLES, RECORD_FINGERPRINTS, RECORD_VIOLATIONS, RECORD_CASES, RECORD_SCORES, PLAN_SKONTO,
    DEMAND_FORECAST, REORDER_PLAN, CHECK_IBANS,
)  # fmt: skip
RAW_RELATIONS = frozenset(f"raw.{t.name}" for t in TABLES)
EXTERNAL = frozenset(RAW_RELATIONS | set(INGEST_WRITES) | {PROFILE} | {w for step in PYTHON_STEPS for w in step.writes})


@cache
def project_models() -> tuple[Model, ...]:
    """Every model of `dbt_like_sql/`, in dependency order (read once per process)."""
    return tuple(load_models(SQL_ROOT, set(EXTERNAL)))


@cache
def asset_relations() -> dict[str, str]:
    """Relations written as a side of another step, to the relation that step's asset is named
    after: a Python step's further tables, a union's compliance.rule_runs."""
    return {w: step.relation for step in PYTHON_STEPS for w in step.side} | producers(list(project_models()))


def built_from(targets: Iterable[str]) -> frozenset[str]:
    """The relations the targets are built from, directly or not, the targets included: what a run
    must have finished before the targets are current."""
    side = asset_relations()
    reads: dict[str, list[str]] = {node.relation: node.upstream for node in (*project_models(), *PYTHON_STEPS)}
    reads |= {f"raw.{t.name}": [PROFILE, *(f"raw.{p.name}" for p in parents(t))] for t in TABLES}
    found: set[str] = set()
    todo = [side.get(t, t) for t in targets]
    while todo:
        relation = todo.pop()
        if relation not in found:
            found.add(relation)
            todo += [side.get(r, r) for r in reads.get(relation, [])]
    return frozenset(found)
