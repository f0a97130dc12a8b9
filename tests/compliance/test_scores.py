"""Properties of the risk and score formulas, and of stale areas, on violations and rule runs made up
for the purpose."""

import datetime as dt
import random

import duckdb
import pytest

from neuroerp.contract import TABLES
from neuroerp.ingest.store import ensure_warehouse
from neuroerp.ingest.types import raw_table_ddl
from neuroerp.project import EXTERNAL, SQL_ROOT
from neuroerp.sqlmodels import build, load_models, run_test

SEVERITIES = ["critical", "high", "medium", "info"]
AREAS = ["psm", "explosives", "enni", "traces", "lksg", "gdpr", "gobd"]


T0 = dt.datetime(2026, 11, 20, 6, 5, tzinfo=dt.UTC)  # an evaluation of the rules
HOUR = dt.timedelta(hours=1)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Empty raw tables (two tenants), a violation history and rule runs written by hand, the score models."""
    conn = duckdb.connect(str(tmp_path_factory.mktemp("scores") / "warehouse.duckdb"))
    ensure_warehouse(conn)
    for spec in TABLES:
        conn.execute(raw_table_ddl(spec))
    conn.execute(
        "INSERT INTO raw.customers (customer_id, tenant_id, customer_no, name, customer_type, is_professional, street, "
        "postal_code, city, country_code, created_at, updated_at) VALUES "
        "('c1', 't1', 'K1', 'n', 'farm', true, 's', '1', 'c', 'DE', now(), now()), "
        "('c2', 't2', 'K2', 'n', 'farm', true, 's', '1', 'c', 'DE', now(), now())"
    )  # area_scores takes its tenants from raw.customers and raw.suppliers
    conn.execute("CREATE SCHEMA compliance")
    conn.execute(
        "CREATE TABLE compliance.violation_history (violation_id VARCHAR, tenant_id VARCHAR, area VARCHAR, "
        "rule_id VARCHAR, severity VARCHAR, subject_type VARCHAR, subject_id VARCHAR, first_detected_at TIMESTAMPTZ, "
        "resolved_at TIMESTAMPTZ)"
    )
    conn.execute(
        "CREATE TABLE compliance.rule_runs (evaluated_at TIMESTAMPTZ, rule_id VARCHAR, area VARCHAR, status VARCHAR, "
        "error VARCHAR)"
    )
    conn.execute(
        "CREATE VIEW compliance.violations AS SELECT * FROM compliance.violation_history WHERE resolved_at IS NULL"
    )
    models = {m.relation: m for m in load_models(SQL_ROOT, EXTERNAL)}

    def rebuild(history: list[tuple], runs: list[tuple], checked: bool = True) -> dict:
        """history: (tenant, area, severity, subject, first detected, resolved or None);
        runs: (evaluated_at, rule_id, area, status or an error). Returns the three score tables."""
        conn.execute("DELETE FROM compliance.violation_history")
        conn.execute("DELETE FROM compliance.rule_runs")
        for i, (tenant, area, severity, subject, first, resolved) in enumerate(history):
            conn.execute(
                "INSERT INTO compliance.violation_history VALUES (?, ?, ?, 'R', ?, 'customer', ?, ?, ?)",
                [str(i), tenant, area, severity, subject, first, resolved],
            )
        for at, rule, area, status in runs:
            ok = status == "ok"
            conn.execute(
                "INSERT INTO compliance.rule_runs VALUES (?, ?, ?, ?, ?)",
                [at, rule, area, "ok" if ok else "failed", None if ok else status],
            )
        for name in ("compliance.entity_scores", "compliance.area_scores", "compliance.overall_scores"):
            build(conn, models[name])
            if checked:
                for test in models[name].tests:
                    assert run_test(conn, test).passed, (name, test.name)
        return {
            "entity": {(r[0], r[1], r[2]): r[3] for r in conn.execute(
                "SELECT tenant_id, entity_id, area, risk_score FROM compliance.entity_scores").fetchall()},
            "area": {(r[0], r[1]): (r[2], r[3]) for r in conn.execute(
                "SELECT tenant_id, area, score_pct, status FROM compliance.area_scores").fetchall()},
            "overall": {r[0]: (r[1], r[2]) for r in conn.execute(
                "SELECT tenant_id, score_pct, status FROM compliance.overall_scores").fetchall()},
            "freshness": {(r[0], r[1]): r[2:] for r in conn.execute(
                "SELECT tenant_id, area, freshness, scored_at, stale_since, stale_reason "
                "FROM compliance.area_scores").fetchall()},
            "overall_freshness": {r[0]: r[1:] for r in conn.execute(
                "SELECT tenant_id, freshness, stale_areas FROM compliance.overall_scores").fetchall()},
        }  # fmt: skip

    yield rebuild
    conn.close()


def all_ran(at: dt.datetime) -> list[tuple]:
    return [(at, f"{area.upper()}-001", area, "ok") for area in AREAS]


@pytest.fixture
def scorer(warehouse):
    def score(violations: list[tuple[str, str, str, str]]) -> dict:
        """violations: (tenant, area, severity, subject), open since the one evaluation T0."""
        return warehouse([(*v, T0, None) for v in violations], all_ran(T0), checked=False)

    return score


def test_nothing_open_means_full_score(scorer):
    s = scorer([])
    assert s["entity"] == {}
    assert all(v == (100.0, "compliant") for v in s["area"].values()) and len(s["area"]) == 14
    assert s["overall"] == {"t1": (100.0, "compliant"), "t2": (100.0, "compliant")}


def test_one_critical_dominates(scorer):
    one = scorer([("t1", "psm", "critical", "a")])["entity"][("t1", "a", "psm")]
    many = scorer([("t1", "psm", "high", "b")] * 50 + [("t1", "psm", "medium", "b")] * 50)["entity"][("t1", "b", "psm")]
    assert one == 1.0 and many < 1.0


def test_more_violations_never_lower_risk_or_raise_the_score(scorer):
    rng = random.Random(5)
    violations: list[tuple[str, str, str, str]] = []
    previous = scorer(violations)
    for _ in range(25):
        violations.append(("t1", rng.choice(AREAS), rng.choice(SEVERITIES), rng.choice(["x", "y"])))
        current = scorer(violations)
        for key, risk in current["entity"].items():
            assert 0 <= risk <= 1
            assert risk >= previous["entity"].get(key, 0.0)
        for key, (pct, _) in current["area"].items():
            assert 0 <= pct <= previous["area"][key][0] <= 100
        previous = current


def test_status_follows_the_worst_severity(scorer):
    s = scorer([("t1", "gdpr", "info", "a"), ("t1", "lksg", "medium", "a"), ("t1", "gobd", "critical", "a")])
    assert s["area"][("t1", "gdpr")][1] == "compliant"
    assert s["area"][("t1", "lksg")][1] == "warning"
    assert s["area"][("t1", "gobd")][1] == "critical"
    assert s["overall"]["t1"][1] == "critical" and s["overall"]["t2"][1] == "compliant"
    areas = [pct for (tenant, _), (pct, _) in s["area"].items() if tenant == "t1"]
    assert s["overall"]["t1"][0] == pytest.approx(sum(areas) / 7, abs=0.05)


def test_documented_values(scorer):
    s = scorer([("t1", "psm", "high", "a"), ("t1", "psm", "high", "a"), ("t1", "enni", "critical", "b")])
    assert s["entity"][("t1", "a", "psm")] == pytest.approx(0.7425)  # 0.99 * (1 - (1 - 0.5)^2)
    assert s["area"][("t1", "psm")][0] == pytest.approx(81.9, abs=0.05)  # 100 * exp(-20 / 100)
    assert s["area"][("t1", "enni")][0] == pytest.approx(77.9, abs=0.05)  # 100 * exp(-25 / 100)


# ------------------------------------------------------------------------------- stale areas


def test_an_area_whose_rule_failed_shows_its_last_good_score_the_others_their_current(warehouse):
    t1, t2, t3 = T0, T0 + HOUR, T0 + 2 * HOUR
    history = [
        ("t1", "gdpr", "high", "a", t1, None),  # open since the first evaluation
        ("t1", "gdpr", "high", "b", t1, t3),  # resolved by the third, which the failed rule cannot tell
        ("t1", "psm", "critical", "c", t1, t3),  # resolved in the third: psm ran fine
        ("t1", "psm", "medium", "d", t3, None),  # new in the third
    ]
    runs = all_ran(t1) + all_ran(t2)
    runs += [(t3, r, a, "ConversionException: boom" if a == "gdpr" else s) for _, r, a, s in all_ran(t3)]
    s = warehouse(history, runs)
    # gdpr: stale since the third evaluation, scored as after the second (two highs: 100 * exp(-0.2))
    assert s["freshness"][("t1", "gdpr")] == ("stale", t2, t3, "GDPR-001: ConversionException: boom")
    assert s["area"][("t1", "gdpr")] == (pytest.approx(81.9, abs=0.05), "warning")
    assert s["freshness"][("t2", "gdpr")][0] == "stale"  # the rule failed for every tenant
    # psm: fresh, as after the third evaluation (one medium)
    assert s["freshness"][("t1", "psm")] == ("fresh", t3, None, None)
    assert s["area"][("t1", "psm")] == (pytest.approx(97.0, abs=0.05), "warning")
    assert s["overall_freshness"]["t1"] == ("stale", ["gdpr"])
    areas = [pct for (tenant, _), (pct, _) in s["area"].items() if tenant == "t1"]
    assert s["overall"]["t1"][0] == pytest.approx(sum(areas) / 7, abs=0.05)  # the last good score counts


def test_stale_since_is_the_first_failure_and_fresh_again_once_the_rule_runs(warehouse):
    t1, t2, t3, t4 = T0, T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR

    def failing(at):
        return [(at, r, a, "boom" if a == "enni" else st) for _, r, a, st in all_ran(at)]

    s = warehouse([], all_ran(t1) + failing(t2) + failing(t3))
    assert s["freshness"][("t1", "enni")] == ("stale", t1, t2, "ENNI-001: boom")
    s = warehouse([], all_ran(t1) + failing(t2) + failing(t3) + all_ran(t4))
    assert s["freshness"][("t1", "enni")] == ("fresh", t4, None, None)
    assert s["overall_freshness"]["t1"] == ("fresh", [])


def test_an_area_never_scored_has_no_score_and_is_left_out_of_the_mean(warehouse):
    runs = [(T0, r, a, "boom" if a == "gobd" else st) for _, r, a, st in all_ran(T0)]
    s = warehouse([("t1", "psm", "high", "a", T0, None)], runs)
    assert s["area"][("t1", "gobd")] == (None, None)
    assert s["freshness"][("t1", "gobd")] == ("stale", None, T0, "GOBD-001: boom")
    others = [pct for (tenant, area), (pct, _) in s["area"].items() if tenant == "t1" and area != "gobd"]
    assert s["overall"]["t1"][0] == pytest.approx(sum(others) / 6, abs=0.05)
