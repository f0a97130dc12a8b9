"""Properties of the scores (per root cause, normalised by exposure, decided cases, look-back window,
applicability, stale areas) on case states, rule runs and ERP rows made up for the purpose, through
the real SQL models (settings, exposure, area_freshness, scored_cases, entity/area/overall scores).

Boundaries tried: an event exactly at the window's first day and one day before it; exposure 0
with and without cases; an acknowledged factor of 0 and 1; a tenant the LkSG does not bind with an
LkSG and an EUDR case; a case with 1 and with 50 violations behind it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import duckdb
import pytest

from neuroerp.compliance.cases import ensure_case_history
from neuroerp.contract import TABLES
from neuroerp.ingest.store import ensure_warehouse
from neuroerp.ingest.types import raw_table_ddl
from neuroerp.project import EXTERNAL, SQL_ROOT
from neuroerp.sqlmodels import build, load_models, run_test

AREAS = ["psm", "explosives", "enni", "traces", "lksg", "gdpr", "gobd"]
AS_OF = dt.date(2026, 11, 20)
T0 = dt.datetime(2026, 11, 20, 6, 5, tzinfo=dt.UTC)  # an evaluation of the rules
HOUR = dt.timedelta(hours=1)
SCORE_MODELS = (
    "compliance.settings", "compliance.exposure", "compliance.area_freshness", "compliance.scored_cases",
    "compliance.entity_scores", "compliance.area_scores", "compliance.overall_scores",
)  # fmt: skip


@dataclass(frozen=True)
class Case:
    tenant: str
    area: str
    severity: str
    subject: str = "s"
    status: str = "open"
    last_event_at: dt.datetime | None = None  # None: a standing state
    open_occurrences: int = 1
    legal_basis: str = "§ 1 some law"
    subject_type: str = "customer"
    valid_from: dt.datetime = T0
    valid_to: dt.datetime | None = None


def all_ran(at: dt.datetime, failing: str | None = None, error: str = "boom") -> list[tuple]:
    return [(at, f"{a.upper()}-001", a, error if a == failing else "ok") for a in AREAS]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Raw tables with two tenants (one customer each), rule runs, case states and the score models."""
    conn = duckdb.connect(str(tmp_path_factory.mktemp("scores") / "warehouse.duckdb"))
    ensure_warehouse(conn)
    for spec in TABLES:
        conn.execute(raw_table_ddl(spec))
    models = {m.relation: m for m in load_models(SQL_ROOT, EXTERNAL)}
    build(conn, models["staging.purchase_order_lines"])
    ensure_case_history(conn)
    conn.execute(
        "CREATE TABLE compliance.rule_runs (evaluated_at TIMESTAMPTZ, rule_id VARCHAR, area VARCHAR, status VARCHAR, "
        "error VARCHAR)"
    )
    yield Scorer(conn, models)
    conn.close()


class Scorer:
    def __init__(self, conn: duckdb.DuckDBPyConnection, models: dict) -> None:
        self.conn, self.models = conn, models

    def exposure(self, psm_sales: dict[str, int] | None = None, suppliers: dict[str, int] | None = None) -> None:
        """One customer per tenant (gdpr exposure 1), PSM sales lines in the window (plus the one PSM
        article each tenant carries when it sells any), suppliers."""
        c = self.conn
        for table in ("customers", "articles", "sales_orders", "sales_order_lines", "suppliers"):
            c.execute(f"DELETE FROM raw.{table}")
        c.execute("INSERT INTO raw.customers (customer_id, tenant_id) VALUES ('c1', 't1'), ('c2', 't2')")
        for tenant, n in (psm_sales or {}).items():
            c.execute(
                "INSERT INTO raw.articles (article_id, tenant_id, category) VALUES (?, ?, 'psm')",
                [f"a-{tenant}", tenant],
            )
            c.execute(
                "INSERT INTO raw.sales_orders (order_id, tenant_id, ordered_at, status) "
                "SELECT ? || i, ?, ?, 'delivered' FROM range(?) t(i)",
                [f"o-{tenant}-", tenant, T0 - 30 * 24 * HOUR, n],
            )
            c.execute(
                "INSERT INTO raw.sales_order_lines (line_id, tenant_id, order_id, article_id) "
                "SELECT 'l' || order_id, tenant_id, order_id, ? FROM raw.sales_orders WHERE tenant_id = ?",
                [f"a-{tenant}", tenant],
            )
        for tenant, n in (suppliers or {}).items():
            c.execute(
                "INSERT INTO raw.suppliers (supplier_id, tenant_id) SELECT ? || i, ? FROM range(?) t(i)",
                [f"s-{tenant}-", tenant, n],
            )

    def __call__(self, cases: list[Case], runs: list[tuple] | None = None, **settings) -> dict:
        """Score these case states after these rule runs (default: every area ran at T0)."""
        c = self.conn
        c.execute("DELETE FROM compliance.case_history")
        c.execute("DELETE FROM compliance.rule_runs")
        for i, k in enumerate(cases):
            c.execute(
                "INSERT INTO compliance.case_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [f"case{i}", k.tenant, k.area, f"{k.area.upper()}-001", k.severity, k.subject_type, k.subject,
                 k.legal_basis, k.status, k.open_occurrences, k.last_event_at, k.valid_from, k.valid_to],
            )  # fmt: skip
        for at, rule, area, status in runs or all_ran(T0):
            ok = status == "ok"
            c.execute(
                "INSERT INTO compliance.rule_runs VALUES (?, ?, ?, ?, ?)",
                [at, rule, area, "ok" if ok else "failed", None if ok else status],
            )
        for variable in self.models["compliance.settings"].variables:  # SET VARIABLE outlives a build
            c.execute(f"RESET VARIABLE {variable}")
        for name in SCORE_MODELS:
            variables = {"as_of": AS_OF.isoformat(), **settings} if name == "compliance.settings" else None
            build(c, self.models[name], variables)
            for test in self.models[name].tests:
                assert run_test(c, test).passed, (name, test.name)

        def rows(sql: str) -> list[tuple]:
            return c.execute(sql).fetchall()

        return {
            "area": {(r[0], r[1]): r[2:] for r in rows(
                "SELECT tenant_id, area, score_pct, status, exposure, penalty FROM compliance.area_scores")},
            "entity": {(r[0], r[1], r[2]): r[3] for r in rows(
                "SELECT tenant_id, entity_id, area, risk_score FROM compliance.entity_scores")},
            "overall": {r[0]: r[1:] for r in rows(
                "SELECT tenant_id, score_pct, status, weakest_area, weakest_score_pct, areas_scored, "
                "not_applicable_areas FROM compliance.overall_scores")},
            "freshness": {(r[0], r[1]): r[2:] for r in rows(
                "SELECT tenant_id, area, freshness, scored_at, stale_since, stale_reason FROM compliance.area_scores")},
            "overall_freshness": {r[0]: r[1:] for r in rows(
                "SELECT tenant_id, freshness, stale_areas FROM compliance.overall_scores")},
        }  # fmt: skip


def score(s: dict, tenant: str, area: str) -> float:
    return s["area"][(tenant, area)][0]


# ------------------------------------------------------------------------------------ exposure


def test_only_areas_that_apply_are_scored_and_the_others_are_listed(warehouse):
    warehouse.exposure(psm_sales={"t1": 99})
    s = warehouse([])
    # t1 sells PSM and holds customer data; t2 only holds customer data; nothing counts as 100 % by default
    assert s["area"] == {
        ("t1", "psm"): (100.0, "compliant", 100, 0.0), ("t1", "gdpr"): (100.0, "compliant", 1, 0.0),
        ("t2", "gdpr"): (100.0, "compliant", 1, 0.0),
    }  # fmt: skip
    assert s["overall"]["t2"] == (100.0, "compliant", "gdpr", 100.0, 1, sorted(set(AREAS) - {"gdpr"}))


def test_more_exposure_at_the_same_cases_raises_the_score(warehouse):
    cases = [Case("t1", "psm", "critical"), Case("t1", "psm", "medium", subject="x")]
    previous, risk = -1.0, None
    for n in (9, 99, 999, 9999):
        warehouse.exposure(psm_sales={"t1": n})
        s = warehouse(cases)
        assert s["area"][("t1", "psm")][2] == n + 1  # the lines and the article
        assert score(s, "t1", "psm") > previous
        assert risk is None or s["entity"] == risk  # an entity's risk is its own, not the tenant's volume
        previous, risk = score(s, "t1", "psm"), s["entity"]


def test_finance_exposure_is_invoices_in_the_window_or_open_and_the_business_partners(warehouse):
    """Invoices dated on the window's first day count, a day before only while still open (paid or
    partly); a cancelled one never. Customers and suppliers (screened for sanctions, IBANs checked)
    count while not deleted."""
    warehouse.exposure(suppliers={"t1": 1})
    c = warehouse.conn
    first_day = AS_OF - dt.timedelta(days=365)
    c.execute("INSERT INTO raw.customers (customer_id, tenant_id, deleted_at) VALUES ('gone', 't1', ?)", [T0])
    invoices = [("first-day", first_day, "paid"), ("day-before", first_day - dt.timedelta(days=1), "paid"),
                ("old-open", first_day - dt.timedelta(days=400), "open"),
                ("old-partial", first_day - dt.timedelta(days=9), "partially_paid"),
                ("cancelled", AS_OF, "cancelled")]  # fmt: skip
    try:
        for invoice_id, day, status in invoices:
            c.execute(
                "INSERT INTO raw.invoices (invoice_id, tenant_id, invoice_date, status) VALUES (?, 't1', ?, ?)",
                [invoice_id, day, status],
            )
        s = warehouse([], all_ran(T0) + [(T0, "FIN-001", "finance", "ok")])
        # t1: first-day, old-open, old-partial + customer c1 and its supplier; t2: its customer
        assert s["area"][("t1", "finance")][2] == 3 + 2
        assert s["area"][("t2", "finance")][2] == 1
    finally:
        c.execute("DELETE FROM raw.invoices")


def test_an_area_with_cases_but_no_exposure_is_scored(warehouse):
    warehouse.exposure()
    s = warehouse([Case("t1", "enni", "high"), Case("t1", "enni", "high", subject="y")])
    assert s["area"][("t1", "enni")][2:] == (2, 20.0)  # exposure: at least the cases counted
    assert score(s, "t1", "enni") == pytest.approx(100 * math.exp(-20 * math.sqrt(1000 / 2) / 100), abs=0.05)


# ----------------------------------------------------------------------------- per root cause


def test_a_case_weighs_the_same_however_many_violations_are_behind_it(warehouse):
    warehouse.exposure(psm_sales={"t1": 99})
    one = warehouse([Case("t1", "psm", "high", open_occurrences=1)])
    fifty = warehouse([Case("t1", "psm", "high", open_occurrences=50)])
    assert score(one, "t1", "psm") == score(fifty, "t1", "psm") < 100
    two = warehouse([Case("t1", "psm", "high"), Case("t1", "psm", "high", subject="other")])
    assert score(two, "t1", "psm") < score(one, "t1", "psm")


def test_the_worked_example_of_the_readme(warehouse):
    """249 PSM sales lines + 1 PSM article = 250; an open critical (25), an acknowledged high
    (10 x 0.5), two open mediums (2 x 3): penalty 36, x sqrt(1000 / 250) = 72, score 48.7 %."""
    cases = [
        Case("t1", "psm", "critical", subject="customer-1"),
        Case("t1", "psm", "high", subject="staff-7", subject_type="staff", status="acknowledged"),
        Case("t1", "psm", "medium", subject="article-3", subject_type="article"),
        Case("t1", "psm", "medium", subject="article-4", subject_type="article"),
    ]
    warehouse.exposure(psm_sales={"t1": 249})
    s = warehouse(cases)
    assert s["area"][("t1", "psm")] == (48.7, "critical", 250, 36.0)
    warehouse.exposure(psm_sales={"t1": 3999})  # the same cases at 4,000: x 0.5 = 18
    s = warehouse(cases)
    assert s["area"][("t1", "psm")] == (83.5, "critical", 4000, 36.0)  # an undecided critical case
    cases[0] = Case("t1", "psm", "critical", subject="customer-1", status="acknowledged")
    s = warehouse(cases)  # 12.5 + 5 + 6 = 23.5, x 0.5 = 11.75
    assert s["area"][("t1", "psm")] == (88.9, "warning", 4000, 23.5)
    assert s["entity"][("t1", "customer-1", "psm")] == pytest.approx(0.99 * 0.5)
    assert s["entity"][("t1", "staff-7", "psm")] == pytest.approx(0.99 * 0.25)  # the seller, not the customer


# ----------------------------------------------------------------------------------- decisions


def test_acknowledging_lowers_risk_and_closing_removes_it(warehouse):
    warehouse.exposure(psm_sales={"t1": 99})
    by_status = {
        status: warehouse([Case("t1", "psm", "critical", status=status), Case("t1", "psm", "medium", subject="m")])
        for status in ("open", "acknowledged", "resolved", "dismissed")
    }
    open_, ack = by_status["open"], by_status["acknowledged"]
    assert score(open_, "t1", "psm") < score(ack, "t1", "psm") < score(by_status["resolved"], "t1", "psm")
    assert ack["entity"][("t1", "s", "psm")] < open_["entity"][("t1", "s", "psm")] == 1.0
    assert score(by_status["resolved"], "t1", "psm") == score(by_status["dismissed"], "t1", "psm")
    assert ("t1", "s", "psm") not in by_status["resolved"]["entity"]
    # the factor is a setting: 1 weighs an acknowledged case like an open one, 0 like a closed one
    full = warehouse([Case("t1", "psm", "high", status="acknowledged")], score_acknowledged_factor="1")
    assert score(full, "t1", "psm") == score(warehouse([Case("t1", "psm", "high")]), "t1", "psm")
    none = warehouse([Case("t1", "psm", "high", status="acknowledged")], score_acknowledged_factor="0")
    assert score(none, "t1", "psm") == 100.0


def test_status_turns_on_undecided_critical_cases_and_the_score(warehouse):
    warehouse.exposure(psm_sales={"t1": 99999})
    assert warehouse([Case("t1", "psm", "critical")])["area"][("t1", "psm")][1] == "critical"  # 97.5 %
    assert warehouse([Case("t1", "psm", "critical", status="acknowledged")])["area"][("t1", "psm")][1] == "warning"
    assert warehouse([Case("t1", "psm", "medium")])["area"][("t1", "psm")][1] == "compliant"
    warehouse.exposure(psm_sales={"t1": 9})
    mediums = [Case("t1", "psm", "medium", subject=str(i)) for i in range(8)]  # 24 x 10 = 240: 9.1 %
    assert warehouse(mediums)["area"][("t1", "psm")][:2] == (9.1, "critical")


# ------------------------------------------------------------------------------ look-back window


def test_past_events_count_inside_the_window_only_standing_states_always(warehouse):
    warehouse.exposure(psm_sales={"t1": 99})
    first_day = dt.datetime.combine(AS_OF - dt.timedelta(days=365), dt.time(12), tzinfo=dt.UTC)
    inside = warehouse([Case("t1", "psm", "high", last_event_at=first_day)])
    outside = warehouse([Case("t1", "psm", "high", last_event_at=first_day - dt.timedelta(days=1))])
    standing = warehouse([Case("t1", "psm", "high", last_event_at=None)])
    assert score(inside, "t1", "psm") == score(standing, "t1", "psm") < 100
    assert score(outside, "t1", "psm") == 100.0
    shorter = warehouse([Case("t1", "psm", "high", last_event_at=first_day)], score_lookback_days="364")
    assert score(shorter, "t1", "psm") == 100.0


# -------------------------------------------------------------------------------- applicability


def test_an_area_the_settings_rule_out_is_absent(warehouse):
    warehouse.exposure(psm_sales={"t1": 99})
    s = warehouse([Case("t1", "psm", "critical")], not_applicable="t1:psm, t2:gdpr")
    assert ("t1", "psm") not in s["area"] and ("t2", "gdpr") not in s["area"] and ("t1", "gdpr") in s["area"]
    assert ("t1", "s", "psm") not in s["entity"]
    assert "psm" in s["overall"]["t1"][-1] and s["overall"]["t2"][4:] == (0, sorted(AREAS))


def test_lksg_duties_count_only_for_tenants_the_lksg_binds_eudr_duties_for_all(warehouse):
    warehouse.exposure(suppliers={"t1": 20, "t2": 20})
    lksg = [Case(t, "lksg", "high", legal_basis="§ 6 Abs. 4 LkSG", subject_type="supplier") for t in ("t1", "t2")]
    eudr = Case("t1", "lksg", "high", subject="e", legal_basis="Art. 4 VO (EU) 2023/1115")
    bound_all = warehouse(lksg)
    assert bound_all["area"][("t1", "lksg")][2] == 20 and ("t1", "s", "lksg") in bound_all["entity"]
    only_t2 = warehouse(lksg, lksg_applies_to="t2")
    assert ("t1", "lksg") not in only_t2["area"] and ("t1", "s", "lksg") not in only_t2["entity"]
    assert only_t2["area"][("t2", "lksg")] == bound_all["area"][("t2", "lksg")]
    with_eudr = warehouse([*lksg, eudr], lksg_applies_to="t2")  # EUDR binds every operator: still scored
    assert with_eudr["area"][("t1", "lksg")][2:] == (1, 10.0)
    assert warehouse(lksg, lksg_applies_to="")["area"].get(("t2", "lksg")) is None


# --------------------------------------------------------------------------------- the overall view


def test_the_overall_view_shows_the_weakest_area_beside_the_mean(warehouse):
    warehouse.exposure(psm_sales={"t1": 999})
    s = warehouse([Case("t1", "gdpr", "high")])
    gdpr, psm = score(s, "t1", "gdpr"), score(s, "t1", "psm")
    assert psm == 100.0 and gdpr < 50
    assert s["overall"]["t1"][:5] == (pytest.approx((gdpr + psm) / 2, abs=0.05), "critical", "gdpr", gdpr, 2)


# --------------------------------------------------------------------------------------- stale areas


def test_an_area_whose_rule_failed_shows_its_last_good_score_the_others_their_current(warehouse):
    warehouse.exposure(psm_sales={"t1": 999})
    t1, t2, t3 = T0, T0 + HOUR, T0 + 2 * HOUR
    cases = [
        Case("t1", "gdpr", "high", subject="a", valid_from=t1),  # open since the first evaluation
        Case("t1", "gdpr", "high", subject="b", valid_from=t1, valid_to=t3),  # closed in the third
        Case("t1", "gdpr", "high", subject="b", status="resolved", valid_from=t3),
        Case("t1", "psm", "critical", subject="c", valid_from=t1, valid_to=t3),  # psm ran fine: resolved
        Case("t1", "psm", "critical", subject="c", status="resolved", valid_from=t3),
        Case("t1", "psm", "medium", subject="d", valid_from=t3),  # new in the third
    ]
    s = warehouse(cases, all_ran(t1) + all_ran(t2) + all_ran(t3, failing="gdpr", error="ConversionException: boom"))
    # gdpr: stale since the third evaluation, scored as after the second (two open highs)
    assert s["freshness"][("t1", "gdpr")] == ("stale", t2, t3, "GDPR-001: ConversionException: boom")
    assert score(s, "t1", "gdpr") == pytest.approx(100 * math.exp(-20 * math.sqrt(1000 / 2) / 100), abs=0.05)
    assert s["freshness"][("t2", "gdpr")][0] == "stale"  # the rule failed for every tenant
    # psm: fresh, as after the third evaluation (one medium)
    assert s["freshness"][("t1", "psm")] == ("fresh", t3, None, None)
    assert s["area"][("t1", "psm")][:2] == (pytest.approx(100 * math.exp(-3 / 100), abs=0.05), "compliant")
    assert s["overall_freshness"]["t1"] == ("stale", ["gdpr"])


def test_stale_since_is_the_first_failure_and_fresh_again_once_the_rule_runs(warehouse):
    warehouse.exposure(psm_sales={"t1": 9})
    t1, t2, t3, t4 = T0, T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR
    s = warehouse([], all_ran(t1) + all_ran(t2, failing="psm") + all_ran(t3, failing="psm"))
    assert s["freshness"][("t1", "psm")] == ("stale", t1, t2, "PSM-001: boom")
    s = warehouse([], all_ran(t1) + all_ran(t2, failing="psm") + all_ran(t3, failing="psm") + all_ran(t4))
    assert s["freshness"][("t1", "psm")] == ("fresh", t4, None, None)
    assert s["overall_freshness"]["t1"] == ("fresh", [])


def test_an_area_never_scored_has_no_score_and_is_left_out_of_the_mean(warehouse):
    warehouse.exposure(psm_sales={"t1": 9})
    s = warehouse([Case("t1", "gdpr", "high")], all_ran(T0, failing="psm"))
    assert s["area"][("t1", "psm")][:2] == (None, None)
    assert s["freshness"][("t1", "psm")] == ("stale", None, T0, "PSM-001: boom")
    assert s["overall"]["t1"][0] == score(s, "t1", "gdpr") and s["overall"]["t1"][4] == 1
