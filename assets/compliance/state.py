"""The stateful steps of the compliance engine around the SQL rules: audit fingerprints,
violation history, cases with the officers' decisions, daily score history."""

import datetime as dt
from pathlib import Path

import dagster as dg

from assets.freshness import HOURLY
from assets.resources import ErpSource, Warehouse
from assets.run_order import run_order_tags
from assets.sqlmodels.factory import relation_key
from neuroerp.compliance.cases import RECORD_CASES, ledger_folder, record_cases
from neuroerp.compliance.fingerprints import RECORD_FINGERPRINTS, record_fingerprints, source_fingerprints
from neuroerp.compliance.history import RECORD_SCORES, RECORD_VIOLATIONS, record_scores, record_violations
from neuroerp.sqlmodels import PythonStep
from neuroerp.warehouse import scalar

OWNERS = ["team:compliance"]


def step_asset(step: PythonStep, kinds: set[str]) -> dict:
    """The asset decorator's arguments that follow from a step's declaration."""
    return {
        "key": relation_key(step.relation),
        "deps": list(dict.fromkeys(relation_key(r) for r in step.reads)),
        "group_name": "compliance",
        "kinds": kinds,
        "owners": OWNERS,
        "freshness_policy": HOURLY,
        "pool": "duckdb_warehouse",
        "op_tags": run_order_tags(step.relation),
    }


@dg.asset(**step_asset(RECORD_FINGERPRINTS, kinds={"postgres", "duckdb"}))
def audit_fingerprints(erp_source: ErpSource, warehouse: Warehouse) -> dg.MaterializeResult:
    """A fingerprint of every audit row as first seen, read from the source itself (GoBD).

    Rows whose fingerprint changed since, or that disappeared, are what GOBD-003 reports; sequence
    numbers never seen are what GOBD-002 reports.
    """
    current = source_fingerprints(erp_source.url)
    with warehouse.connect() as conn:
        counts = record_fingerprints(conn, current, dt.datetime.now(dt.UTC))
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": counts["rows"],
            "new_rows": counts["new"],
            "changed_rows": counts["changed"],
            "deleted_rows": counts["absent"],
        }
    )


@dg.asset(**step_asset(RECORD_VIOLATIONS, kinds={"duckdb"}))
def violations(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Open compliance violations, each with the instant it was first detected.

    `violation_id` stays the same across runs; `compliance.violation_history` keeps every violation
    ever found with first and last detection and when it was resolved. The violations of a rule that
    failed in this evaluation (compliance.rule_runs) stay open, unchanged, until it runs again.
    """
    with warehouse.connect() as conn:
        counts = record_violations(conn)
        by_area = conn.execute(
            "SELECT area, severity, count(*) FROM compliance.violations GROUP BY ALL ORDER BY 1, 2"
        ).fetchall()
    table_md = "| area | severity | open |\n|---|---|---:|\n" + "\n".join(f"| {a} | {s} | {n} |" for a, s, n in by_area)
    context.log.info(f"{counts['open']} open violations, {counts['new']} new, {counts['resolved']} resolved")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": counts["open"],
            "new": counts["new"],
            "resolved": counts["resolved"],
            "rules_failed": counts["kept_for_failed_rules"],
            "by_area": dg.MetadataValue.md(table_md),
        }
    )


LEDGER_INTACT = "ledger_intact"


@dg.asset(
    **step_asset(RECORD_CASES, kinds={"duckdb"}),
    check_specs=[
        dg.AssetCheckSpec(
            LEDGER_INTACT,
            asset=relation_key(RECORD_CASES.relation),
            description=(
                "The officers' decision ledger (NEUROERP_HOME/ledger) verifies: no entry edited, removed, inserted "
                "or moved (severity error, not blocking: only its intact leading decisions move cases)."
            ),
            blocking=False,
        )
    ],
)
def cases(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Compliance cases: the violations grouped by root cause (rule and subject), with the officers'
    decisions.

    One row per case (`case_id` stable: rule, tenant, subject): status open, acknowledged, resolved
    or dismissed, opened / last seen / resolved, its occurrences and the evidence of the latest.
    Officers decide with `neuroerp case decide`; the decisions live in the hash-chained ledger under
    NEUROERP_HOME/ledger (not in the rebuildable warehouse) and are mirrored into
    compliance.case_decisions; compliance.case_history keeps each case's states per evaluation.
    A case resolves by itself when none of its violations is found any more, and reopens when
    something its last decision did not cover is found.
    """
    with warehouse.connect() as conn:
        recorded = record_cases(conn, ledger_folder(Path(warehouse.home)))
        by_area = conn.execute(
            "SELECT area, count(*) FILTER (WHERE status = 'open'), count(*) FILTER (WHERE status = 'acknowledged'), "
            "count(*) FILTER (WHERE status IN ('resolved', 'dismissed')) FROM compliance.cases GROUP BY 1 ORDER BY 1"
        ).fetchall()
    table_md = "| area | open | acknowledged | closed |\n|---|---:|---:|---:|\n" + "\n".join(
        f"| {a} | {o} | {k} | {c} |" for a, o, k, c in by_area
    )
    for problem in recorded.ledger_problems:
        context.log.error(f"decision ledger: {problem}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": recorded.cases,
            "by_status": dg.MetadataValue.json(recorded.by_status),
            "opened_or_reopened": recorded.opened,
            "decisions": recorded.decisions,
            "by_area": dg.MetadataValue.md(table_md),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=LEDGER_INTACT,
                passed=not recorded.ledger_problems,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={
                    "entries": recorded.decisions,
                    "head_hash": recorded.head_hash,
                    "problems": dg.MetadataValue.json(recorded.ledger_problems),
                },
            )
        ],
    )


@dg.asset(**step_asset(RECORD_SCORES, kinds={"duckdb"}))
def score_history(warehouse: Warehouse) -> dg.MaterializeResult:
    """Area and overall scores per tenant and day, so trends show (the day's last run counts).

    A stale area (a rule of it failed) is kept with its last good score and freshness = stale.
    """
    with warehouse.connect() as conn:
        day = scalar(conn, "SELECT as_of FROM compliance.settings")
        rows = record_scores(conn, day, dt.datetime.now(dt.UTC))
        days = scalar(conn, "SELECT count(DISTINCT day) FROM compliance.score_history")
        stale = conn.execute(
            "SELECT DISTINCT area FROM compliance.area_scores WHERE freshness = 'stale' ORDER BY 1"
        ).fetchall()
    return dg.MaterializeResult(
        metadata={
            "day": str(day),
            "rows_recorded": rows,
            "days_kept": days,
            "stale_areas": dg.MetadataValue.json([a for (a,) in stale]),
        }
    )
