"""Building SQL models in DuckDB atomically, and running their tests."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import duckdb

from neuroerp.sqlmodels.models import Member, Model, ModelTest

STAGING_PREFIX = "__building__"
QUARANTINE = "quarantine.model_rows"
MEMBER = "__union_member"  # a temp table: one rule's findings, checked before they join the union


@dataclass
class MemberOutcome:
    """How one rule of a union fared in a build: `ok`, or `failed` with the error."""

    relation: str
    rule_id: str
    area: str
    status: str
    findings: int | None
    error: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class Built:
    relation: str
    materialized: str
    rows: int | None  # None for views (counting would run them)
    columns: list[tuple[str, str]]
    seconds: float
    quarantined: dict[str, int] = field(default_factory=dict)  # rows each quarantine rule left out
    members: list[MemberOutcome] = field(default_factory=list)  # a union's rules
    evaluated_at: dt.datetime | None = None

    @property
    def failed_members(self) -> list[MemberOutcome]:
        return [m for m in self.members if not m.ok]


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


def build(
    conn: duckdb.DuckDBPyConnection,
    model: Model,
    variables: dict[str, str] | None = None,
    now: dt.datetime | None = None,
    run_id: str | None = None,
) -> Built:
    """Build the model into a staging relation, then swap it in within one transaction.

    Readers see the old relation until the commit and the new one after it, never half of it; if
    the SQL fails, the staging relation is dropped and the previous version stays. `variables`:
    values for the model's declared `vars` (the run's configuration), set before it runs.

    A model with `quarantine:` rules records the rows they leave out in quarantine.model_rows,
    in the same transaction. A `union_of: rules` model evaluates each rule on its own: a rule
    that fails (its SQL, or the union's error tests on its findings) is left out, and every
    rule's outcome is appended to `<schema>.rule_runs` with the instant `now` and `run_id`.
    """
    started = time.perf_counter()
    now = now or dt.datetime.now(dt.UTC)
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
    members: list[MemberOutcome] = []
    try:
        if model.members:
            members = _build_members(conn, model, f"{schema}.{staging}")
        else:
            conn.execute(f"CREATE {kind} {schema}.{staging} AS {model.sql}")
        if model.materialized == "view":
            conn.execute(f"SELECT * FROM {schema}.{staging} LIMIT 0").fetchall()  # binds every reference now
        quarantined = _find_quarantined(conn, model)
    except duckdb.Error:
        conn.execute(f"DROP {kind} IF EXISTS {schema}.{staging}")
        raise
    conn.execute("BEGIN TRANSACTION")
    try:
        if model.quarantine:
            _record_quarantined(conn, model, now)
        if model.members:
            _record_members(conn, model, members, now, run_id)
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
    return Built(
        model.relation, model.materialized, rows, columns, time.perf_counter() - started, quarantined, members,
        now if model.members else None,
    )  # fmt: skip


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:2000]


def _evaluate_member(conn: duckdb.DuckDBPyConnection, model: Model, member: Member) -> MemberOutcome:
    """One rule's findings into a temp table, checked with the union's error tests."""
    started = time.perf_counter()

    def outcome(status: str, findings: int | None, error: str | None) -> MemberOutcome:
        rule = member.rule
        return MemberOutcome(
            member.relation, rule.id, rule.area, status, findings, error, time.perf_counter() - started
        )

    try:
        conn.execute(f"CREATE OR REPLACE TEMP TABLE {MEMBER} AS {model.member_sql(member)}")
        # the union's error tests and the findings in one query (a query per test and rule cost
        # seconds at scale 1); a failing test is run again on its own for its sample
        tests = [test.on(MEMBER) for test in model.tests if test.severity == "error"]
        counted = ", ".join(f"(SELECT count(*) FROM ({test.sql}))" for test in tests)
        *failing, findings = conn.execute(
            f"SELECT {counted + ', ' if counted else ''}count(*) FROM {MEMBER}"
        ).fetchall()[0]
        for test, count in zip(tests, failing, strict=True):
            if count:
                result = run_test(conn, test, sample_size=1)
                sample = f", e.g. {result.sample[0]}" if result.sample else ""
                return outcome("failed", None, f"test {test.name} found {result.failing_rows} rows{sample}")
    except duckdb.Error as exc:
        return outcome("failed", None, _error_text(exc))
    return outcome("ok", findings, None)


def _build_members(conn: duckdb.DuckDBPyConnection, model: Model, target: str) -> list[MemberOutcome]:
    """The union, one rule at a time: a failing rule is left out and the others go on."""
    outcomes, created = [], False
    try:
        for member in model.members:
            result = _evaluate_member(conn, model, member)
            outcomes.append(result)
            if result.ok:
                verb = f"INSERT INTO {target} BY NAME" if created else f"CREATE TABLE {target} AS"
                conn.execute(f"{verb} SELECT * FROM {MEMBER}")
                created = True
        if not created:  # every rule failed: an empty relation of the last good shape, if there is one
            if _existing_kind(conn, model.schema, model.name) is None:
                failures = "; ".join(f"{o.rule_id}: {o.error}" for o in outcomes)
                raise duckdb.Error(f"{model.relation}: every rule failed and no earlier version exists: {failures}")
            conn.execute(f"CREATE TABLE {target} AS SELECT * FROM {_q(model.schema)}.{_q(model.name)} WHERE false")
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {MEMBER}")
    return outcomes


def _record_members(
    conn: duckdb.DuckDBPyConnection, model: Model, members: list[MemberOutcome], now: dt.datetime, run_id: str | None
) -> None:
    runs = f"{_q(model.schema)}.rule_runs"
    conn.execute(
        f"""CREATE TABLE IF NOT EXISTS {runs} (
            evaluated_at TIMESTAMPTZ NOT NULL, run_id VARCHAR, rule_id VARCHAR NOT NULL, area VARCHAR NOT NULL,
            relation VARCHAR NOT NULL, status VARCHAR NOT NULL, findings BIGINT, error VARCHAR, seconds DOUBLE,
            PRIMARY KEY (evaluated_at, rule_id)
        )"""
    )
    conn.executemany(
        f"INSERT INTO {runs} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [[now, run_id, m.rule_id, m.area, m.relation, m.status, m.findings, m.error, m.seconds] for m in members],
    )


def _find_quarantined(conn: duckdb.DuckDBPyConnection, model: Model) -> dict[str, int]:
    """The rows each quarantine rule matches now, into a temp table; counts per rule."""
    if not model.quarantine:
        return {}
    parts = " union all ".join(
        f"select distinct {_literal(r.name)} as rule, {_literal(r.reason)} as reason, to_json(checked)::varchar "
        f"as row_json from (\n{model.query}\n) as checked where coalesce({r.where}, false)"
        for r in model.quarantine
    )
    conn.execute(f"CREATE OR REPLACE TEMP TABLE __quarantined AS SELECT *, md5(row_json) AS row_hash FROM ({parts})")
    counts = dict(conn.execute("SELECT rule, count(*) FROM __quarantined GROUP BY rule").fetchall())
    return {r.name: counts.get(r.name, 0) for r in model.quarantine}


def _record_quarantined(conn: duckdb.DuckDBPyConnection, model: Model, now: dt.datetime) -> None:
    """quarantine.model_rows keeps what the model leaves out now, each row since it was first left out."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS quarantine")
    conn.execute(
        f"""CREATE TABLE IF NOT EXISTS {QUARANTINE} (
            relation VARCHAR NOT NULL, rule VARCHAR NOT NULL, reason VARCHAR NOT NULL, row_json VARCHAR NOT NULL,
            row_hash VARCHAR NOT NULL, first_seen_at TIMESTAMPTZ NOT NULL, last_seen_at TIMESTAMPTZ NOT NULL
        )"""
    )
    same = "q.rule = m.rule AND q.row_hash = m.row_hash"
    conn.execute(
        f"DELETE FROM {QUARANTINE} m WHERE m.relation = ? AND NOT EXISTS (SELECT 1 FROM __quarantined q WHERE {same})",
        [model.relation],
    )
    conn.execute(
        f"UPDATE {QUARANTINE} m SET last_seen_at = ?, reason = q.reason FROM __quarantined q "
        f"WHERE m.relation = ? AND {same}",
        [now, model.relation],
    )
    conn.execute(
        f"INSERT INTO {QUARANTINE} SELECT ?, q.rule, q.reason, q.row_json, q.row_hash, ?, ? FROM __quarantined q "
        f"WHERE NOT EXISTS (SELECT 1 FROM {QUARANTINE} m WHERE m.relation = ? AND {same})",
        [model.relation, now, now, model.relation],
    )
    conn.execute("DROP TABLE __quarantined")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def run_test(conn: duckdb.DuckDBPyConnection, test: ModelTest, sample_size: int = 5) -> TestOutcome:
    """Count the rows the test's query returns (a passing test returns none) and keep a few."""
    count = conn.execute(f"SELECT count(*) FROM ({test.sql})").fetchall()[0][0]
    sample = []
    if count:
        cursor = conn.execute(f"SELECT * FROM ({test.sql}) LIMIT {sample_size}")
        names = [d[0] for d in cursor.description]
        sample = [dict(zip(names, [str(v) for v in row], strict=True)) for row in cursor.fetchall()]
    return TestOutcome(test, count, sample)
