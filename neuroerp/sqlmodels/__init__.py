"""Plain SQL models (`dbt_like_sql/`) with dbt-style tests, built in DuckDB."""

from neuroerp.sqlmodels.models import Model, ModelError, ModelTest, PythonStep, Rule, build_order, load_models
from neuroerp.sqlmodels.runner import Built, TestOutcome, build, run_test

__all__ = [
    "Built", "Model", "ModelError", "ModelTest", "PythonStep", "Rule", "TestOutcome", "build", "build_order",
    "load_models", "run_test",
]  # fmt: skip
