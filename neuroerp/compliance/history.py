"""What stays from run to run: when each violation was first and last seen, and daily scores."""

from __future__ import annotations

import datetime as dt

import duckdb

from neuroerp.duck import transaction

HISTORY = "compliance.violation_history"
VIOLATIONS = "compliance.violations"
SCORES = "compliance.score_history"
COLUMNS = (
    "violation_id, tenant_id, area, rule_id, severity, entity_type, entity_id, subject_type, subject_id, "
    "evidence, recommendation, legal_basis"
)


def record_violations(conn: duckdb.DuckDBPyConnection, now: dt.datetime) -> dict[str, int]:
    """Merge this run's findings (compliance.current_violations) into the history, and rebuild
    compliance.violations: the open ones, each with the instant it was first detected."""
    conn.execute(
        f"""CREATE TABLE IF NOT EXISTS {HISTORY} (
            violation_id VARCHAR PRIMARY KEY, tenant_id VARCHAR, area VARCHAR, rule_id VARCHAR,
            severity VARCHAR, entity_type VARCHAR, entity_id VARCHAR, subject_type VARCHAR,
            subject_id VARCHAR, evidence VARCHAR, recommendation VARCHAR, legal_basis VARCHAR,
            first_detected_at TIMESTAMPTZ NOT NULL, last_detected_at TIMESTAMPTZ NOT NULL,
            resolved_at TIMESTAMPTZ
        )"""
    )
    with transaction(conn):
        new = conn.execute(
            f"INSERT INTO {HISTORY} SELECT {COLUMNS}, ?, ?, NULL FROM compliance.current_violations c "
            f"WHERE c.violation_id NOT IN (SELECT violation_id FROM {HISTORY})",
            [now, now],
        ).fetchall()[0][0]
        # seen again: fresh evidence; a violation that comes back after being resolved is open again
        conn.execute(
            f"UPDATE {HISTORY} h SET last_detected_at = ?, resolved_at = NULL, evidence = c.evidence, "
            "severity = c.severity, recommendation = c.recommendation, legal_basis = c.legal_basis "
            "FROM compliance.current_violations c WHERE c.violation_id = h.violation_id",
            [now],
        )
        resolved = conn.execute(
            f"UPDATE {HISTORY} SET resolved_at = ? WHERE resolved_at IS NULL "
            "AND violation_id NOT IN (SELECT violation_id FROM compliance.current_violations)",
            [now],
        ).fetchall()[0][0]
        conn.execute(
            f"CREATE OR REPLACE TABLE {VIOLATIONS} AS SELECT violation_id, tenant_id, area, rule_id, severity, "
            "entity_type, entity_id, first_detected_at AS detected_at, evidence, recommendation, legal_basis, "
            f"subject_type, subject_id, last_detected_at FROM {HISTORY} WHERE resolved_at IS NULL"
        )
        open_count = conn.execute(f"SELECT count(*) FROM {VIOLATIONS}").fetchall()[0][0]
    return {"open": open_count, "new": new, "resolved": resolved}


def record_scores(conn: duckdb.DuckDBPyConnection, day: dt.date, now: dt.datetime) -> int:
    """Keep today's area and overall scores in compliance.score_history (one row per day, tenant
    and area; a later run on the same day replaces that day's rows)."""
    conn.execute(
        f"""CREATE TABLE IF NOT EXISTS {SCORES} (
            day DATE NOT NULL, tenant_id VARCHAR NOT NULL, area VARCHAR NOT NULL, score_pct DOUBLE,
            status VARCHAR, critical BIGINT, high BIGINT, medium BIGINT, info BIGINT,
            recorded_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (day, tenant_id, area)
        )"""
    )
    with transaction(conn):
        conn.execute(f"DELETE FROM {SCORES} WHERE day = ?", [day])
        rows = conn.execute(
            f"INSERT INTO {SCORES} "
            "SELECT ?, tenant_id, area, score_pct, status, critical, high, medium, info, ? FROM compliance.area_scores "
            "UNION ALL "
            "SELECT ?, tenant_id, 'overall', score_pct, status, critical, high, medium, info, ? "
            "FROM compliance.overall_scores",
            [day, now, day, now],
        ).fetchall()[0][0]
    return rows
