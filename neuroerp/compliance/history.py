"""What stays from run to run: when each violation was first and last seen (with its case), and daily scores."""

from __future__ import annotations

import datetime as dt

import duckdb

from neuroerp.sqlmodels import PythonStep
from neuroerp.warehouse import transaction

HISTORY = "compliance.violation_history"
VIOLATIONS = "compliance.violations"
SCORES = "compliance.score_history"
RULE_RUNS = "compliance.rule_runs"  # written with compliance.current_violations: each rule's outcome
RECORD_VIOLATIONS = PythonStep(
    "violations", writes=(VIOLATIONS, HISTORY), reads=("compliance.current_violations", RULE_RUNS), side=(HISTORY,)
)
RECORD_SCORES = PythonStep(
    "score_history",
    writes=(SCORES,),
    reads=("compliance.settings", "compliance.area_scores", "compliance.overall_scores"),
)
SCORE_COLUMNS_ADDED = (
    ("freshness", "VARCHAR"), ("exposure", "BIGINT"), ("penalty", "DOUBLE"), ("open_cases", "BIGINT"),
    ("acknowledged_cases", "BIGINT"), ("weakest_area", "VARCHAR"),
)  # fmt: skip
COLUMNS = (
    "violation_id, tenant_id, area, rule_id, severity, entity_type, entity_id, subject_type, subject_id, "
    "evidence, recommendation, legal_basis"
)


# The case a violation belongs to: its root cause, the rule and the subject it judges (the product, the
# customer, the branch, ...) in one tenant (GoBD's subject `audit_log` exists in every tenant). Stable
# across runs, so officers' decisions (neuroerp.compliance.cases) keep pointing at it.
def case_id_sql(alias: str = "") -> str:
    """The SQL expression of a finding's case_id (columns of `alias`, when given)."""
    a = f"{alias}." if alias else ""
    return (
        f"md5(concat_ws('|', {a}rule_id, {a}tenant_id, coalesce({a}subject_type, {a}entity_type), "
        f"coalesce({a}subject_id, {a}entity_id)))"
    )


def latest_evaluation(conn: duckdb.DuckDBPyConnection) -> tuple[dt.datetime, list[str]]:
    """The instant of the latest evaluation of the rules and the rules that failed in it."""
    rows = conn.execute(
        f"SELECT evaluated_at, rule_id, status FROM {RULE_RUNS} "
        f"WHERE evaluated_at = (SELECT max(evaluated_at) FROM {RULE_RUNS}) ORDER BY rule_id"
    ).fetchall()
    if not rows:
        raise RuntimeError(f"{RULE_RUNS} is empty: build compliance.current_violations first")
    return rows[0][0], [rule for _, rule, status in rows if status != "ok"]


def record_violations(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Merge the latest evaluation's findings (compliance.current_violations) into the history,
    and rebuild compliance.violations: the open ones, each with the instant it was first detected.

    The history holds one row per episode: a violation that was resolved and comes back later
    opens a new episode, so the earlier resolution stays on record. Detection and resolution
    carry the instant of the evaluation (compliance.rule_runs), so the history answers what was
    open after any evaluation. A rule that failed in it found nothing we could trust: its open
    violations stay open, unchanged, until it runs again (its area's score is then stale).
    """
    now, failed = latest_evaluation(conn)
    conn.execute(
        f"""CREATE TABLE IF NOT EXISTS {HISTORY} (
            violation_id VARCHAR NOT NULL, tenant_id VARCHAR, area VARCHAR, rule_id VARCHAR,
            severity VARCHAR, entity_type VARCHAR, entity_id VARCHAR, subject_type VARCHAR,
            subject_id VARCHAR, evidence VARCHAR, recommendation VARCHAR, legal_basis VARCHAR,
            first_detected_at TIMESTAMPTZ NOT NULL, last_detected_at TIMESTAMPTZ NOT NULL,
            resolved_at TIMESTAMPTZ, case_id VARCHAR,
            PRIMARY KEY (violation_id, first_detected_at)
        )"""
    )
    conn.execute(f"ALTER TABLE {HISTORY} ADD COLUMN IF NOT EXISTS case_id VARCHAR")  # warehouses from before
    open_episode = f"SELECT violation_id FROM {HISTORY} WHERE resolved_at IS NULL"
    with transaction(conn):
        # still open: the latest evidence and whatever else the rule says about it now
        conn.execute(
            f"UPDATE {HISTORY} h SET last_detected_at = ?, tenant_id = c.tenant_id, area = c.area, "
            "severity = c.severity, subject_type = c.subject_type, subject_id = c.subject_id, "
            "evidence = c.evidence, recommendation = c.recommendation, legal_basis = c.legal_basis, "
            f"case_id = {case_id_sql('c')} "
            "FROM compliance.current_violations c WHERE c.violation_id = h.violation_id AND h.resolved_at IS NULL",
            [now],
        )
        new = conn.execute(
            f"INSERT INTO {HISTORY} SELECT {COLUMNS}, ?, ?, NULL, {case_id_sql('c')} FROM compliance.current_violations c "
            f"WHERE c.violation_id NOT IN ({open_episode})",
            [now, now],
        ).fetchall()[0][0]
        conn.execute(f"UPDATE {HISTORY} SET case_id = {case_id_sql()} WHERE case_id IS NULL")  # rows from before
        resolved = conn.execute(
            f"UPDATE {HISTORY} SET resolved_at = ? WHERE resolved_at IS NULL "
            "AND violation_id NOT IN (SELECT violation_id FROM compliance.current_violations) "
            "AND NOT list_contains(?, rule_id)",
            [now, failed],
        ).fetchall()[0][0]
        conn.execute(
            f"CREATE OR REPLACE TABLE {VIOLATIONS} AS SELECT violation_id, tenant_id, area, rule_id, severity, "
            "entity_type, entity_id, first_detected_at AS detected_at, evidence, recommendation, legal_basis, "
            f"subject_type, subject_id, last_detected_at, case_id FROM {HISTORY} WHERE resolved_at IS NULL"
        )
        open_count = conn.execute(f"SELECT count(*) FROM {VIOLATIONS}").fetchall()[0][0]
    return {"open": open_count, "new": new, "resolved": resolved, "kept_for_failed_rules": len(failed)}


def record_scores(conn: duckdb.DuckDBPyConnection, day: dt.date, now: dt.datetime) -> int:
    """Keep today's area and overall scores in compliance.score_history (one row per day, tenant
    and area; a later run on the same day replaces that day's rows). A stale area is recorded
    with its last good score and freshness = stale, so a trend never hides a gap. An area that does
    not apply to the tenant that day has no row (as in compliance.area_scores)."""
    conn.execute(
        f"""CREATE TABLE IF NOT EXISTS {SCORES} (
            day DATE NOT NULL, tenant_id VARCHAR NOT NULL, area VARCHAR NOT NULL, score_pct DOUBLE,
            status VARCHAR, critical BIGINT, high BIGINT, medium BIGINT, info BIGINT,
            recorded_at TIMESTAMPTZ NOT NULL, freshness VARCHAR, PRIMARY KEY (day, tenant_id, area)
        )"""
    )
    for column, type_ in SCORE_COLUMNS_ADDED:  # warehouses from before
        conn.execute(f"ALTER TABLE {SCORES} ADD COLUMN IF NOT EXISTS {column} {type_}")
    columns = (
        "day, tenant_id, area, score_pct, status, critical, high, medium, info, recorded_at, freshness, "
        "exposure, penalty, open_cases, acknowledged_cases, weakest_area"
    )
    with transaction(conn):
        conn.execute(f"DELETE FROM {SCORES} WHERE day = ?", [day])
        rows = conn.execute(
            f"INSERT INTO {SCORES} ({columns}) "
            "SELECT ?, tenant_id, area, score_pct, status, critical, high, medium, info, ?, freshness, exposure, "
            "penalty, open_cases, acknowledged_cases, NULL FROM compliance.area_scores "
            "UNION ALL "
            "SELECT ?, tenant_id, 'overall', score_pct, status, critical, high, medium, info, ?, freshness, NULL, "
            "NULL, NULL, NULL, weakest_area FROM compliance.overall_scores",
            [day, now, day, now],
        ).fetchall()[0][0]
    return rows
