"""Plain SQL models (`dbt_like_sql/`) with dbt-style tests, built in DuckDB."""

from neuroerp.sqlmodels.models import (
    Member,
    Model,
    ModelError,
    ModelTest,
    PythonStep,
    Quarantine,
    Rule,
    build_order,
    load_models,
    producers,
)
from neuroerp.sqlmodels.runner import QUARANTINE, Built, MemberOutcome, TestOutcome, build, run_test

__all__ = [
    "QUARANTINE", "Built", "Member", "MemberOutcome", "Model", "ModelError", "ModelTest", "PythonStep", "Quarantine",
    "Rule", "TestOutcome", "build", "build_order", "load_models", "producers", "run_test",
]  # fmt: skip
