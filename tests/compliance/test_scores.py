"""Properties of the risk and score formulas, on violations made up for the purpose."""

import random

import duckdb
import pytest

from neuroerp.contract import TABLES
from neuroerp.ingest.store import ensure_warehouse
from neuroerp.ingest.types import raw_table_ddl
from neuroerp.project import EXTERNAL, SQL_ROOT
from neuroerp.sqlmodels import build, load_models

SEVERITIES = ["critical", "high", "medium", "info"]
AREAS = ["psm", "explosives", "enni", "traces", "lksg", "gdpr", "gobd"]


@pytest.fixture(scope="module")
def scorer(tmp_path_factory):
    conn = duckdb.connect(str(tmp_path_factory.mktemp("scores") / "warehouse.duckdb"))
    ensure_warehouse(conn)
    for spec in TABLES:
        conn.execute(raw_table_ddl(spec))
    conn.execute(
        "INSERT INTO raw.customers (customer_id, tenant_id, customer_no, name, customer_type, is_professional, street, "
        "postal_code, city, country_code, created_at, updated_at) VALUES "
        "('c1', 't1', 'K1', 'n', 'farm', true, 's', '1', 'c', 'DE', now(), now()), "
        "('c2', 't2', 'K2', 'n', 'farm', true, 's', '1', 'c', 'DE', now(), now())"
    )
    conn.execute("CREATE SCHEMA compliance")
    conn.execute(
        "CREATE TABLE compliance.violations (violation_id VARCHAR, tenant_id VARCHAR, area VARCHAR, rule_id VARCHAR, "
        "severity VARCHAR, subject_type VARCHAR, subject_id VARCHAR)"
    )
    models = {m.relation: m for m in load_models(SQL_ROOT, EXTERNAL)}
    # area_scores takes its tenants from raw.customers and raw.suppliers

    def score(violations: list[tuple[str, str, str, str]]) -> dict:
        """violations: (tenant, area, severity, subject); returns the three score tables."""
        conn.execute("DELETE FROM compliance.violations")
        for i, (tenant, area, severity, subject) in enumerate(violations):
            conn.execute(
                "INSERT INTO compliance.violations VALUES (?, ?, ?, 'R', ?, 'customer', ?)",
                [str(i), tenant, area, severity, subject],
            )
        for name in ("compliance.entity_scores", "compliance.area_scores", "compliance.overall_scores"):
            build(conn, models[name])
        return {
            "entity": {(r[0], r[1], r[2]): r[3] for r in conn.execute(
                "SELECT tenant_id, entity_id, area, risk_score FROM compliance.entity_scores").fetchall()},
            "area": {(r[0], r[1]): (r[2], r[3]) for r in conn.execute(
                "SELECT tenant_id, area, score_pct, status FROM compliance.area_scores").fetchall()},
            "overall": {r[0]: (r[1], r[2]) for r in conn.execute(
                "SELECT tenant_id, score_pct, status FROM compliance.overall_scores").fetchall()},
        }  # fmt: skip

    yield score
    conn.close()


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
