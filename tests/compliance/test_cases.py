"""Cases and decisions on the demo ERP (scale 0.01, SQLite): grouped by root cause, decided through
the real `neuroerp case` commands, resolved by themselves, reopened, kept across a warehouse
rebuild, a tampered ledger found; and the scores moving with the decisions.

Bad input tried on `neuroerp case decide`: an unknown case, a prefix too short, an empty name, a
blank note, a status it does not know, a closed case, a case already acknowledged, a data home
without a warehouse, a ledger that fails verification; each refused, nothing written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from neuroerp.compliance.cases import ledger_folder, record_cases
from neuroerp.compliance.engine import run_compliance
from neuroerp.compliance.ledger import DecisionLedger, entry_hash
from neuroerp.project import EXTERNAL, SQL_ROOT
from neuroerp.seed import seed_source
from neuroerp.sqlmodels import load_models
from pipelines.cli import main
from tests.conftest import AS_OF, SEED
from tests.ingest.conftest import ingest_all

CONTRACT_COLUMNS = [
    "case_id", "tenant_id", "area", "rule_id", "severity", "subject_type", "subject_id", "status", "opened_at",
    "last_seen_at", "resolved_at", "occurrences", "evidence", "recommendation", "legal_basis",
]  # fmt: skip
DECISION_COLUMNS = ["decision_id", "case_id", "status", "decided_by", "decided_at", "note", "prev_hash", "hash"]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A data home: the demo ERP, ingested, the compliance run done once."""
    home = tmp_path_factory.mktemp("cases")
    url = f"sqlite:///{home / 'erp.sqlite'}"
    seed_source(url, scale=0.01, seed=SEED, as_of=AS_OF, create_schema=True)
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        ingest_all(url, conn)
        _run(conn, home)
    return home


@pytest.fixture
def home(base, tmp_path) -> Path:
    """A copy of the data home for one test."""
    copy = tmp_path / "home"
    shutil.copytree(base, copy)
    return copy


def _run(conn, home: Path):
    conn.execute("SET VARIABLE as_of = ?", [AS_OF.isoformat()])
    return run_compliance(conn, f"sqlite:///{home / 'erp.sqlite'}", load_models(SQL_ROOT, EXTERNAL))


def run(home: Path):
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        return _run(conn, home)


def query(home: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def cli(home: Path, *args: str):
    env = {"NEUROERP_HOME": str(home), "NEUROERP_SOURCE_URL": f"sqlite:///{home / 'erp.sqlite'}",
           "DAGSTER_HOME": str(home / "dagster")}  # fmt: skip
    return CliRunner().invoke(main, ["case", *args], env=env)


def decide(home: Path, case_id: str, status: str, by: str = "Erika Muster", note: str = "geprüft"):
    result = cli(home, "decide", case_id, "--status", status, "--by", by, "--note", note)
    assert result.exit_code == 0, result.output
    return result


def status_of(home: Path, case_id: str) -> tuple:
    return query(
        home, "SELECT status, resolution, reopened, decided_by, new_since_decision FROM compliance.cases "
        "WHERE case_id = ?", [case_id]
    )[0]  # fmt: skip


def sales_line_case(home: Path, scored: bool = False) -> tuple[str, str, list[str]]:
    """An open case whose occurrences are sales lines (the one with most of them): id, area, lines."""
    case_id, area = query(
        home,
        "SELECT c.case_id, c.area FROM compliance.cases c JOIN compliance.scored_cases s USING (case_id) "
        "WHERE c.status = 'open' AND c.entity_type = 'sales_order_line' AND (s.weight > 0 OR NOT ?) "
        "ORDER BY c.occurrences DESC, c.case_id LIMIT 1",
        [scored],
    )[0]
    lines = [r[0] for r in query(
        home, "SELECT entity_id FROM compliance.violations WHERE case_id = ? ORDER BY 1", [case_id])]  # fmt: skip
    return case_id, area, lines


def ledger_bytes(home: Path) -> tuple:
    ledger = DecisionLedger(ledger_folder(home))
    return tuple(p.read_bytes() if p.exists() else None for p in (ledger.path, ledger.head_path))


# ----------------------------------------------------------------------------- root causes


def test_cases_group_violations_by_rule_and_subject(base):
    columns = [r[0] for r in query(base, "DESCRIBE compliance.cases")]
    assert columns[: len(CONTRACT_COLUMNS)] == CONTRACT_COLUMNS
    assert [r[0] for r in query(base, "DESCRIBE compliance.case_decisions")][: len(DECISION_COLUMNS)] == (
        DECISION_COLUMNS
    )
    expected = query(
        base, "SELECT rule_id, tenant_id, subject_type, subject_id, count(*) FROM compliance.violations GROUP BY ALL"
    )
    cases = query(
        base, "SELECT rule_id, tenant_id, subject_type, subject_id, open_occurrences FROM compliance.cases "
        "WHERE status = 'open'"
    )  # fmt: skip
    assert sorted(cases) == sorted(expected) and len(cases) < len(query(base, "SELECT 1 FROM compliance.violations"))
    for evidence, occurrences, opened, last_seen in query(
        base, "SELECT evidence, occurrences, opened_at, last_seen_at FROM compliance.cases"
    ):
        assert isinstance(json.loads(evidence), dict) and occurrences >= 1 and opened <= last_seen
    # the events behind a case: its sales' order times; a finding about an article is a standing state
    wrong = query(
        base,
        "SELECT c.case_id FROM compliance.cases c JOIN compliance.violations v USING (case_id) "
        "JOIN raw.sales_order_lines l ON l.line_id = v.entity_id JOIN raw.sales_orders o USING (order_id) "
        "WHERE c.entity_type = 'sales_order_line' GROUP BY c.case_id, c.last_event_at, c.standing "
        "HAVING c.last_event_at IS DISTINCT FROM max(o.ordered_at) OR c.standing",
    )
    assert (
        wrong == []
        and query(base, "SELECT count(*) FROM compliance.cases WHERE entity_type = 'sales_order_line'")[0][0]
    )
    assert query(base, "SELECT DISTINCT standing, last_event_at IS NULL FROM compliance.cases "
                       "WHERE entity_type = 'article' AND status = 'open'") == [(True, True)]  # fmt: skip
    # a product sold after its sell-out period is one case, its sales lines its occurrences
    (psm_002,) = query(base, "SELECT max(occurrences) FROM compliance.cases WHERE rule_id = 'PSM-002'")[0]
    assert psm_002 > 1


def test_a_warehouse_from_before_the_cases_gets_them(home):
    """Violation and score history written by the version before: the run adds what is missing."""
    before = query(home, "SELECT case_id, status, occurrences FROM compliance.cases ORDER BY 1")
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        for table in ("cases", "case_history", "case_decisions"):
            conn.execute(f"DROP TABLE compliance.{table}")
        conn.execute("ALTER TABLE compliance.violation_history DROP COLUMN case_id")
        for column in ("exposure", "penalty", "open_cases", "acknowledged_cases", "weakest_area"):
            conn.execute(f"ALTER TABLE compliance.score_history DROP COLUMN {column}")
        _run(conn, home)
    assert query(home, "SELECT case_id, status, occurrences FROM compliance.cases ORDER BY 1") == before
    assert query(
        home, "SELECT count(*) FROM compliance.score_history WHERE area <> 'overall' AND exposure IS NULL"
    ) == [(0,)]
    assert query(home, "SELECT count(*) FROM compliance.score_history WHERE area = 'overall' AND weakest_area IS NULL"
                 ) == [(0,)]  # fmt: skip


# ---------------------------------------------------------------------------- decisions


def test_a_decision_reaches_the_case_its_mirror_and_the_scores(home):
    case_id, area, _ = sales_line_case(home, scored=True)
    tenant, weight, severity_weight = query(
        home, "SELECT tenant_id, weight, severity_weight FROM compliance.scored_cases WHERE case_id = ?", [case_id]
    )[0]
    before = query(home, "SELECT score_pct, penalty FROM compliance.area_scores WHERE tenant_id = ? AND area = ?",
                   [tenant, area])[0]  # fmt: skip
    out = decide(home, case_id[:10], "acknowledged", note="Abnehmer angeschrieben").output
    assert case_id in out and "ledger entry 1" in out
    listed = cli(home, "list", "--tenant", tenant, "--area", area, "--json")
    assert {json.loads(line)["case_id"]: json.loads(line)["status"] for line in listed.output.splitlines()}[
        case_id
    ] == "acknowledged"  # before the next run: the CLI applies what the ledger holds
    run(home)
    assert status_of(home, case_id) == ("acknowledged", None, 0, "Erika Muster", 0)
    after = query(home, "SELECT score_pct, penalty FROM compliance.area_scores WHERE tenant_id = ? AND area = ?",
                  [tenant, area])[0]  # fmt: skip
    assert after[1] == pytest.approx(before[1] - severity_weight * 0.5) and after[0] > before[0]
    assert weight == severity_weight
    decide(home, case_id, "resolved", note="Restbestand zurückgegeben")
    run(home)
    assert status_of(home, case_id)[:2] == ("resolved", "decision")
    assert query(home, "SELECT weight FROM compliance.scored_cases WHERE case_id = ?", [case_id]) == [(0.0,)]
    mirror = query(home, "SELECT seq, status, decided_by, verified, prev_hash FROM compliance.case_decisions")
    assert [m[:4] for m in mirror] == [(1, "acknowledged", "Erika Muster", True), (2, "resolved", "Erika Muster", True)]
    assert mirror[0][4] == "0" * 64
    assert cli(home, "verify").exit_code == 0


def test_a_resolved_case_stays_resolved_while_still_found_and_reopens_on_a_new_occurrence(home):
    case_id, _, lines = sales_line_case(home)
    decide(home, case_id, "resolved", note="Kunde hat Sachkunde nachgereicht")
    run(home)
    assert status_of(home, case_id)[:2] == ("resolved", "decision")  # the past sales are still found
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:  # the same sale again, a new line
        conn.execute(
            "INSERT INTO raw.sales_order_lines SELECT * REPLACE ('again-' || line_id AS line_id) "
            "FROM raw.sales_order_lines WHERE line_id = ?",
            [lines[0]],
        )
        _run(conn, home)
    assert status_of(home, case_id) == ("open", None, 1, "Erika Muster", 1)


def test_a_case_resolves_by_itself_when_its_condition_clears_and_reopens_when_it_returns(home):
    case_id, _, lines = sales_line_case(home)
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:  # the lines are gone at the source
        conn.execute(
            "CREATE TABLE keep AS SELECT * FROM raw.sales_order_lines WHERE list_contains(?, line_id)", [lines]
        )
        conn.execute("DELETE FROM raw.sales_order_lines WHERE list_contains(?, line_id)", [lines])
        _run(conn, home)
    assert status_of(home, case_id)[:3] == ("resolved", "cleared", 0)
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        conn.execute("INSERT INTO raw.sales_order_lines SELECT * FROM keep")
        _run(conn, home)
    (resolved, reopened, opened, first_seen) = query(
        home,
        "SELECT resolved_at, reopened, opened_at, first_seen_at FROM compliance.cases WHERE case_id = ?",
        [case_id],
    )[0]
    states = query(home, "SELECT status FROM compliance.case_history WHERE case_id = ? ORDER BY valid_from", [case_id])
    assert (resolved, reopened) == (None, 1) and opened > first_seen
    assert [s for (s,) in states] == ["open", "resolved", "open"]


def test_deleting_the_warehouse_loses_no_decision(home):
    case_id, _, _ = sales_line_case(home)
    decide(home, case_id, "dismissed", note="Kunde ist Landwirt mit Sachkunde, Stammdaten falsch")
    run(home)
    before = dict(query(home, "SELECT case_id, status FROM compliance.cases"))
    (home / "warehouse.duckdb").unlink()
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        ingest_all(f"sqlite:///{home / 'erp.sqlite'}", conn)
        _run(conn, home)
    after = dict(query(home, "SELECT case_id, status FROM compliance.cases"))
    assert after[case_id] == "dismissed" and after == {k: v for k, v in before.items() if v != "resolved"}
    assert query(home, "SELECT count(*) FROM compliance.case_decisions WHERE verified") == [(1,)]


# ------------------------------------------------------------------------------------ tampering


def test_a_tampered_ledger_is_found_and_its_broken_decisions_move_nothing(home):
    first, _, _ = sales_line_case(home)
    decide(home, first, "acknowledged")
    second = query(home, "SELECT case_id FROM compliance.cases WHERE status = 'open' AND case_id <> ? LIMIT 1",
                   [first])[0][0]  # fmt: skip
    decide(home, second, "acknowledged")
    ledger = DecisionLedger(ledger_folder(home))
    lines = ledger.path.read_text(encoding="utf-8").splitlines(keepends=True)
    entry = json.loads(lines[0]) | {"status": "dismissed"}
    lines[0] = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
    ledger.path.write_text("".join(lines), encoding="utf-8")
    verify = cli(home, "verify")
    assert verify.exit_code == 1 and "edited" in verify.output and "only its 0 intact" in verify.output
    before = ledger_bytes(home)
    refused = cli(home, "decide", second, "--status", "resolved", "--by", "E. Muster", "--note", "x")
    assert refused.exit_code == 1 and "fails verification" in refused.output and ledger_bytes(home) == before
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        recorded = record_cases(conn, ledger_folder(home))
    assert recorded.ledger_problems
    assert status_of(home, first)[0] == status_of(home, second)[0] == "open"
    assert query(home, "SELECT seq, verified FROM compliance.case_decisions") == [(1, False), (2, False)]


def test_a_consistent_rewrite_of_the_ledger_is_found_against_the_warehouse_mirror(home):
    case_id, _, _ = sales_line_case(home)
    decide(home, case_id, "acknowledged")
    run(home)  # the mirror now holds the entry
    ledger = DecisionLedger(ledger_folder(home))
    entry = json.loads(ledger.path.read_text(encoding="utf-8")) | {"status": "dismissed"}
    entry["hash"] = entry_hash(entry)
    ledger.path.write_text(json.dumps(entry, sort_keys=True) + "\n", encoding="utf-8")
    ledger.head_path.write_text(json.dumps({"entries": 1, "hash": entry["hash"]}), encoding="utf-8")
    assert ledger.verify().ok  # the chain alone cannot tell
    verify = cli(home, "verify")
    assert verify.exit_code == 1 and "mirror of the last run holds seq 1" in verify.output
    before = ledger_bytes(home)
    refused = cli(home, "decide", case_id, "--status", "resolved", "--by", "E. Muster", "--note", "n")
    assert refused.exit_code == 1 and "fails verification" in refused.output and ledger_bytes(home) == before
    listed = [json.loads(line) for line in cli(home, "list", "--json", "--status", "all").output.splitlines()]
    assert {r["case_id"]: r["status"] for r in listed}[case_id] == "acknowledged"  # as the mirror says, not dismissed
    mirrored = query(home, "SELECT hash, status FROM compliance.case_decisions")
    for _ in range(2):  # the run trusts nothing from seq 1 on and keeps the last good mirror, run after run
        with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
            recorded = record_cases(conn, ledger_folder(home))
        assert any("mirror" in p for p in recorded.ledger_problems)
        assert status_of(home, case_id)[0] == "open"
        assert query(home, "SELECT hash, status FROM compliance.case_decisions") == mirrored
    shutil.rmtree(ledger_folder(home))  # the whole ledger gone
    verify = cli(home, "verify")
    assert verify.exit_code == 1 and "the ledger does not" in verify.output


# ---------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["ffffffffffffffff", "--status", "resolved", "--by", "E. Muster", "--note", "n"], "unknown case"),
        (["abc", "--status", "resolved", "--by", "E. Muster", "--note", "n"], "at least 8"),
        (["CASE", "--status", "resolved", "--by", "", "--note", "n"], "--by must name"),
        (["CASE", "--status", "resolved", "--by", "E. Muster", "--note", "   "], "--note must say why"),
        (["CASE", "--status", "reopened", "--by", "E. Muster", "--note", "n"], "'reopened' is not one of"),
        (["CLOSED", "--status", "acknowledged", "--by", "E. Muster", "--note", "n"], "a closed case takes no"),
        (["ACKNOWLEDGED", "--status", "acknowledged", "--by", "E. Muster", "--note", "n"], "already acknowledged"),
    ],
)
def test_bad_input_to_decide_is_refused_and_writes_nothing(home, args, says):
    case_id, _, _ = sales_line_case(home)
    others = [r[0] for r in query(home, "SELECT case_id FROM compliance.cases WHERE status = 'open' AND case_id <> ? "
                                        "ORDER BY case_id LIMIT 2", [case_id])]  # fmt: skip
    decide(home, others[0], "resolved")
    decide(home, others[1], "acknowledged")
    named = {"CASE": case_id, "CLOSED": others[0], "ACKNOWLEDGED": others[1]}
    before = ledger_bytes(home)
    result = cli(home, "decide", *[named.get(a, a) for a in args])
    assert result.exit_code != 0 and says in result.output, result.output
    assert ledger_bytes(home) == before


def test_decide_without_a_warehouse_is_refused(tmp_path):
    result = cli(tmp_path, "decide", "0" * 32, "--status", "resolved", "--by", "E. Muster", "--note", "n")
    assert result.exit_code == 1 and "no warehouse" in result.output
    assert not ledger_folder(tmp_path).exists()


# --------------------------------------------------------------------------------- listing


def test_list_filters_by_tenant_area_and_status(home):
    case_id, _, _ = sales_line_case(home)
    decide(home, case_id, "dismissed")
    rows = [json.loads(line) for line in cli(home, "list", "--json", "--status", "all").output.splitlines()]
    assert len(rows) == query(home, "SELECT count(*) FROM compliance.cases")[0][0]
    active = [json.loads(line) for line in cli(home, "list", "--json").output.splitlines()]
    assert case_id not in {r["case_id"] for r in active} and {r["status"] for r in active} == {"open"}
    dismissed = [json.loads(line) for line in cli(home, "list", "--json", "--status", "dismissed").output.splitlines()]
    assert [r["case_id"] for r in dismissed] == [case_id]
    # decided after the last run: who and when come from the ledger, not from the run's mirror
    assert dismissed[0]["decided_by"] == "Erika Muster" and dismissed[0]["decided_at"] is not None
    psm = [json.loads(line) for line in cli(home, "list", "--json", "--tenant", "lh-nord", "--area", "psm").output
           .splitlines()]  # fmt: skip
    assert psm and {(r["tenant_id"], r["area"]) for r in psm} == {("lh-nord", "psm")}
    table = cli(home, "list", "--status", "all")
    assert table.exit_code == 0 and case_id[:12] in table.output and "Erika Muster" in table.output
    shown = cli(home, "show", case_id[:12])
    assert shown.exit_code == 0 and "dismissed by Erika Muster" in shown.output


def test_the_cli_waits_while_a_run_holds_the_warehouse(home):
    """DuckDB admits no reader beside a writing process: the command waits, says so, then answers."""
    writer = duckdb.connect(str(home / "warehouse.duckdb"))  # as a run's step holds it
    env = {**os.environ, "NEUROERP_HOME": str(home), "NEUROERP_SOURCE_URL": f"sqlite:///{home / 'erp.sqlite'}"}
    command = [str(Path(sys.executable).parent / "neuroerp"), "case", "list", "--json", "--wait", "120"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    said = threading.Event()
    errors: list[str] = []

    def watch() -> None:
        for line in process.stderr:
            errors.append(line)
            if "a run is writing the warehouse" in line:
                said.set()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert said.wait(120), "".join(errors)
    finally:
        writer.close()
    stdout, _ = process.communicate(timeout=120)
    watcher.join(10)
    assert process.returncode == 0, "".join(errors)
    assert len(stdout.splitlines()) == query(home, "SELECT count(*) FROM compliance.cases WHERE status = 'open'")[0][0]
