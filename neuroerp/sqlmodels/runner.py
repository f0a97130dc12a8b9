"""Building SQL models in DuckDB atomically, and running their tests."""

from __future__ import annotations

import time
from dataclasses import dataclass

import duckdb

from neuroerp.sqlmodels.models import Model, ModelTest

STAGING_PREFIX = "__building__"


@dataclass
class Built:
    relation: str
    materialized: str
    rows: int | None  # None for views (counting would run them)
    columns: list[tuple[str, str]]
    seconds: float


@dataclass
class TestOutcome:
    test: ModelTest
    failing_rows: int
    sample: list[dict]

    @property
    def passed(self) -> bool:
        return self.failing_rows == 0


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _existing_kind(conn: duckdb.DuckDBPyConnection, schema: str, name: str) -> str | None:
    rows = conn.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, name]
    ).fetchall()
    if not rows:
        return None
    return "view" if rows[0][0] == "VIEW" else "table"


def build(conn: duckdb.DuckDBPyConnection, model: Model, variables: dict[str, str] | None = None) -> Built:
    """Build the model into a staging relation, then swap it in within one transaction.

    Readers see the old relation until the commit and the new one after it, never half of it; if
    the SQL fails, the staging relation is dropped and the previous version stays. `variables`:
    values for the model's declared `vars` (the run's configuration), set before it runs.
    """
    started = time.perf_counter()
    for name, value in (variables or {}).items():
        if name not in model.variables:
            raise ValueError(f"{model.relation} declares no variable {name!r} (it reads {sorted(model.variables)})")
        conn.execute(f"SET VARIABLE {name} = ?", [str(value)])
    schema, name = _q(model.schema), _q(model.name)
    staging = _q(STAGING_PREFIX + model.name)
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    leftover = _existing_kind(conn, model.schema, STAGING_PREFIX + model.name)  # from a crashed build
    if leftover:
        conn.execute(f"DROP {leftover.upper()} {schema}.{staging}")
    kind = "VIEW" if model.materialized == "view" else "TABLE"
    try:
        conn.execute(f"CREATE {kind} {schema}.{staging} AS {model.sql}")
        if model.materialized == "view":
            conn.execute(f"SELECT * FROM {schema}.{staging} LIMIT 0").fetchall()  # binds every reference now
    except duckdb.Error:
        conn.execute(f"DROP {kind} IF EXISTS {schema}.{staging}")
        raise
    conn.execute("BEGIN TRANSACTION")
    try:
        existing = _existing_kind(conn, model.schema, model.name)
        if existing:
            conn.execute(f"DROP {existing.upper()} {schema}.{name}")
        if model.materialized == "view":
            # a view cannot be renamed in DuckDB: create it under its name from the same SQL
            conn.execute(f"CREATE VIEW {schema}.{name} AS {model.sql}")
            conn.execute(f"DROP VIEW {schema}.{staging}")
        else:
            conn.execute(f"ALTER TABLE {schema}.{staging} RENAME TO {name}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        conn.execute(f"DROP {kind} IF EXISTS {schema}.{staging}")
        raise
    columns = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position",
        [model.schema, model.name],
    ).fetchall()
    rows = None
    if model.materialized == "table":
        rows = conn.execute(f"SELECT count(*) FROM {schema}.{name}").fetchall()[0][0]
    return Built(model.relation, model.materialized, rows, columns, time.perf_counter() - started)


def run_test(conn: duckdb.DuckDBPyConnection, test: ModelTest, sample_size: int = 5) -> TestOutcome:
    """Count the rows the test's query returns (a passing test returns none) and keep a few."""
    count = conn.execute(f"SELECT count(*) FROM ({test.sql})").fetchall()[0][0]
    sample = []
    if count:
        cursor = conn.execute(f"SELECT * FROM ({test.sql}) LIMIT {sample_size}")
        names = [d[0] for d in cursor.description]
        sample = [dict(zip(names, [str(v) for v in row], strict=True)) for row in cursor.fetchall()]
    return TestOutcome(test, count, sample)
