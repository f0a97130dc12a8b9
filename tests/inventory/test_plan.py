"""The reorder run on hand-made ERP rows: the SQL inputs (PSM sell-out end from compliance.settings,
goods on order in time), the forecast, the plan with its German reasons, the proposals view and
its tests, and the Excel export. The plan is made for Friday 2026-11-20 from two years of sales.

Bad inputs tried: a pack size of 0 (a master-data row, not an error), a PSM without an
authorisation end (blocked), a deleted and an inactive article (excluded, with the reason)."""

import datetime as dt
import json
from decimal import Decimal

import duckdb
import openpyxl
import pytest

from neuroerp.contract import TABLES
from neuroerp.ingest.store import ensure_warehouse
from neuroerp.ingest.types import raw_table_ddl
from neuroerp.inventory.config import ReorderConfig
from neuroerp.inventory.export import FILE_NAME, export_proposals
from neuroerp.inventory.plan import DEMAND_FORECAST, REORDER_PLAN, run_forecast, run_plan, steps_needed
from neuroerp.project import project_models
from neuroerp.sqlmodels import build, run_test

AS_OF = dt.date(2026, 11, 20)
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
ARTICLE = {"tenant_id": "t", "description": "", "unit": "bag", "pack_size": 1, "unit_cost": 10, "list_price": 12,
           "lead_time_days": 14, "min_order_qty": 10, "is_active": True, "psm_professional_only": False,
           "is_organic": False, "supplier_id": "s1", "updated_at": T0}  # fmt: skip
ARTICLES = {
    # id: (category, daily sales, on hand, overrides)
    "steady": ("other", 3, 60, {}),
    "single": ("seed", 0, 0, {}),
    "new": ("biostimulant", 0, 0, {"unit": "l", "pack_size": 5, "min_order_qty": 20}),
    "inactive": ("other", 1, 0, {"is_active": False}),
    "deleted": ("other", 1, 0, {"deleted_at": T0}),
    "nopack": ("other", 1, 0, {"pack_size": 0}),
    "psm_late": ("psm", 1, 0, {"unit": "l", "psm_authorized_until": dt.date(2026, 6, 3)}),  # sellable to 03.12.
    "psm_ok": ("psm", 1, 0, {"unit": "l", "psm_authorized_until": dt.date(2029, 12, 31)}),
    "psm_risk": ("psm", 1, 0, {"unit": "l", "psm_authorized_until": dt.date(2027, 1, 10),
                               "psm_withdrawal_kind": "authority_risk"}),
    "psm_unknown": ("psm", 1, 0, {"unit": "l"}),
    "kas": ("fertilizer", 0.5, 0, {"unit": "t", "min_order_qty": 1, "lead_time_days": 7, "precursor_annex": "I",
                                   "n_total_pct": 27, "n_from_an_pct": 27}),
}  # fmt: skip
MODELS = {m.relation: m for m in project_models()}
INPUTS = ["inventory.demand_weekly", "inventory.open_purchase_orders", "inventory.supplier_delivery",
          "inventory.reorder_inputs"]  # fmt: skip


def add(conn, table: str, **row) -> None:
    cols = ", ".join(f'"{c}"' for c in row)
    conn.execute(f"INSERT INTO raw.{table} ({cols}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))


def sell_daily(conn, article: str, per_day: float, days: int = 728) -> None:
    """One order a day for `days` days before the as-of day."""
    conn.execute(
        """INSERT INTO raw.sales_orders (order_id, tenant_id, order_no, customer_id, ordered_at, channel, status, updated_at)
           SELECT ? || i, 't', 'AU' || i, 'c1', ?::TIMESTAMPTZ - i * INTERVAL 1 DAY, 'counter', 'invoiced', ?
           FROM range(0, ?) r(i)""",
        [f"o-{article}-", dt.datetime.combine(AS_OF, dt.time(10), tzinfo=dt.UTC), T0, days],
    )
    conn.execute(
        """INSERT INTO raw.sales_order_lines (line_id, tenant_id, order_id, article_id, warehouse_id, quantity, unit_price, updated_at)
           SELECT ? || i, 't', ? || i, ?, 'w1', ?, 1, ? FROM range(0, ?) r(i)""",
        [f"l-{article}-", f"o-{article}-", article, per_day, T0, days],
    )


def rebuild_inputs(conn, **variables) -> None:
    build(conn, MODELS["compliance.settings"], {"as_of": AS_OF.isoformat(), **variables})
    for relation in INPUTS:
        build(conn, MODELS[relation])


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("inventory") / "warehouse.duckdb"
    conn = duckdb.connect(str(path))
    ensure_warehouse(conn)
    for spec in TABLES:
        conn.execute(raw_table_ddl(spec))
    for model in MODELS.values():
        if model.schema == "staging":
            build(conn, model)
    add(conn, "suppliers", supplier_id="s1", tenant_id="t", supplier_no="L1", name="Agrar Nord", country_code="DE",
        code_of_conduct_signed=True, updated_at=T0)  # fmt: skip
    add(conn, "warehouses", warehouse_id="w1", tenant_id="t", name="Lager Mitte", state_code="NI", updated_at=T0)
    add(conn, "warehouses", warehouse_id="w2", tenant_id="t", name="Lager Klein", state_code="NI", capacity_t=2,
        updated_at=T0)  # fmt: skip
    for i, (aid, (category, per_day, on_hand, overrides)) in enumerate(ARTICLES.items()):
        add(conn, "articles", article_id=aid, article_no=f"A{i:03d}", name=f"Artikel {aid}", category=category,
            **{**ARTICLE, **overrides})  # fmt: skip
        if per_day:
            sell_daily(conn, aid, per_day)
        if aid != "deleted":
            add(conn, "stock_levels", article_id=aid, warehouse_id="w1", tenant_id="t", on_hand=on_hand,
                reserved=5 if aid == "steady" else 0, updated_at=T0)  # fmt: skip
    # one sale of 4 bags 30 weeks ago; precursor fertiliser also stocked in the small warehouse
    sold = dt.datetime.combine(AS_OF - dt.timedelta(weeks=30), dt.time(9), tzinfo=dt.UTC)
    add(conn, "sales_orders", order_id="o-single", tenant_id="t", order_no="AU-S", customer_id="c1", ordered_at=sold,
        channel="counter", status="invoiced", updated_at=sold)  # fmt: skip
    add(conn, "sales_order_lines", line_id="l-single", tenant_id="t", order_id="o-single", article_id="single",
        warehouse_id="w1", quantity=4, unit_price=1, updated_at=sold)  # fmt: skip
    conn.execute("UPDATE raw.sales_order_lines SET warehouse_id = 'w2' WHERE article_id = 'kas'")
    add(conn, "stock_levels", article_id="kas", warehouse_id="w2", tenant_id="t", on_hand=0, reserved=0, updated_at=T0)
    # goods on order: 10 bags in 5 days (in time), 50 in 30 days (too late to count)
    for po, days, qty in (("p1", 5, 10), ("p2", 30, 50)):
        add(conn, "purchase_orders", po_id=po, tenant_id="t", supplier_id="s1", po_no=po, ordered_at=T0,
            expected_on=AS_OF + dt.timedelta(days=days), status="open", updated_at=T0)  # fmt: skip
        add(conn, "purchase_order_lines", po_line_id=f"{po}-1", tenant_id="t", po_id=po, article_id="steady",
            warehouse_id="w1", quantity=qty, unit_price=10, origin_country_code="DE", updated_at=T0)  # fmt: skip
    for model in MODELS.values():
        if model.schema == "staging":
            build(conn, model)
    rebuild_inputs(conn)
    run_forecast(conn, ReorderConfig())
    run_plan(conn, ReorderConfig())
    build(conn, MODELS["inventory.reorder_proposals"])
    yield conn, path
    conn.close()


def plan_row(conn, article: str, warehouse: str = "w1") -> dict:
    cur = conn.execute("SELECT * FROM inventory.reorder_plan WHERE article_id = ? AND warehouse_id = ?",
                       [article, warehouse])  # fmt: skip
    return dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))


def test_hand_computed_proposal_end_to_end(warehouse):
    conn, _ = warehouse
    row = plan_row(conn, "steady")
    # 3 bags a day, every day: the forecast is exact (no error), so the safety stock is the lead
    # time's alone: no receipts of the supplier -> sigma_L = 0.25 * 14 = 3.5 days;
    # SS = 1.645 * sqrt(14 * 0 + 3^2 * 3.5^2) = 17.27; S = 3 * 21 + 17.27 = 80.27
    assert row["forecast_model"] in ("top_down_seasonal", "seasonal_naive")
    assert row["mean_daily_demand"] == pytest.approx(3.0)
    assert row["sigma_daily_demand"] == pytest.approx(0.0, abs=1e-6)
    assert row["sigma_lead_time_days"] == pytest.approx(3.5)
    assert row["safety_stock"] == pytest.approx(1.6448536 * 10.5, abs=1e-3)
    assert row["order_up_to"] == pytest.approx(63 + 17.271, abs=1e-3)
    assert row["available"] == 65  # 60 on hand - 5 reserved + 10 arriving on day 5 (the 50 on day 30 come late)
    assert row["status"] == "order" and row["proposed_qty"] == Decimal("16.000")  # 15.27 -> 16 bags (minimum 10)
    # 65 - 3 t < 17.27 first on day 16; minus 14 days lead time: order by 22.11.
    assert row["order_by"] == dt.date(2026, 11, 22)
    assert row["stock_lasts_until"] == dt.date(2026, 12, 11)  # 65 bags last 21 days and a bit
    assert row["reason"].startswith(
        "Bestand reicht bis 11.12., unter Sicherheitsbestand ab 06.12., Lieferzeit 14 Tage: bestellen bis 22.11., 16 Sack."
    )
    assert "Aufgerundet von 15,271 Sack auf Gebinde 1 Sack, Mindestmenge 10 Sack." in row["reason"]


def test_new_article_and_single_sale_get_an_explained_answer(warehouse):
    conn, _ = warehouse
    new = plan_row(conn, "new")
    assert new["status"] == "no_history" and new["proposed_qty"] == 0
    assert "Keine Verkäufe in den letzten 104 Wochen" in new["reason"] and "manuell" in new["reason"]
    assert "Mindestmenge 20 l" in new["reason"]
    single = plan_row(conn, "single")
    # sold once (4 bags, 30 weeks ago): no safety stock on one data point, nothing expected in the
    # next 21 days, so nothing to order now; ordered when a customer asks
    assert single["sales_weeks"] == 1 and single["safety_stock"] == 0
    assert single["status"] == "sufficient" and single["proposed_qty"] == 0
    assert "Nur 1 Verkaufswoche in 104 Wochen: sporadischer Bedarf, kein Sicherheitsbestand" in single["reason"]


def test_psm_gating_from_the_sell_out_period_in_compliance_settings(warehouse):
    conn, _ = warehouse
    sellable = dict(conn.execute(
        "SELECT article_id, psm_sellable_until FROM inventory.reorder_inputs WHERE category = 'psm'").fetchall())  # fmt: skip
    assert sellable["psm_late"] == dt.date(2026, 12, 3)  # 03.06.2026 + 6 months
    assert sellable["psm_risk"] == dt.date(2027, 1, 10)  # withdrawn for risk: no sell-out period
    assert sellable["psm_unknown"] is None
    late = plan_row(conn, "psm_late")  # arrives on 04.12., one day after sales must stop
    assert late["status"] == "psm_blocked" and late["proposed_qty"] == 0
    assert "Abverkaufsfrist bis 03.12.2026" in late["reason"] and "nicht bestellen" in late["reason"]
    assert plan_row(conn, "psm_unknown")["status"] == "psm_blocked"
    risk = plan_row(conn, "psm_risk")  # 1 l a day until 10.01.: 51 l sell by then, 14 before arrival
    assert risk["status"] == "order" and risk["proposed_qty"] <= Decimal(51 - 14)
    assert "Zulassung widerrufen (Risiko) zum 10.01.2027, keine Abverkaufsfrist" in risk["reason"]
    assert plan_row(conn, "psm_ok")["status"] == "order"
    proposals = {r[0] for r in conn.execute("SELECT article_id FROM inventory.reorder_proposals").fetchall()}
    assert not proposals & {"psm_late", "psm_unknown", "inactive", "deleted", "nopack", "new"}
    # the sell-out period is read from compliance.settings, not repeated: three months move the end
    rebuild_inputs(conn, psm_sellout_months="3")
    three = conn.execute("SELECT psm_sellable_until FROM inventory.reorder_inputs WHERE article_id = 'psm_late'")
    assert three.fetchone()[0] == dt.date(2026, 9, 3)
    rebuild_inputs(conn)


def test_excluded_master_data_and_precursor_rows(warehouse):
    conn, _ = warehouse
    assert plan_row(conn, "inactive")["status"] == "excluded"
    assert "inaktiv" in plan_row(conn, "inactive")["reason"]
    deleted = plan_row(conn, "deleted")  # sold from w1 in the history, so still a pair to explain
    assert deleted["status"] == "excluded" and "gelöscht" in deleted["reason"]
    assert plan_row(conn, "nopack")["status"] == "master_data_error"
    kas = plan_row(conn, "kas", "w2")  # 0.5 t a day but room for 2 t only
    assert kas["customer_statement_required"] and "Anhang I" in kas["reason"]
    assert kas["status"] == "order" and kas["proposed_qty"] == Decimal("2.000") and kas["capacity_limited"]
    assert "Lagerkapazität gekürzt" in kas["reason"]


def test_proposals_view_and_its_tests(warehouse):
    conn, _ = warehouse
    columns = [r[0] for r in conn.execute("DESCRIBE inventory.reorder_proposals").fetchall()]
    assert columns[:6] == ["tenant_id", "article_id", "warehouse_id", "proposed_qty", "order_by", "reason"]
    value = conn.execute("SELECT order_value FROM inventory.reorder_proposals WHERE article_id = 'steady'").fetchone()
    assert value[0] == Decimal("160.00")  # 16 bags at 10 EUR, exact
    for relation in ("inventory.reorder_proposals", *INPUTS):
        for test in MODELS[relation].tests:
            outcome = run_test(conn, test)
            assert outcome.passed, (relation, test.name, outcome.sample)
    # the safety net catches what the plan must never do: an order arriving after the sell-out end
    conn.execute("BEGIN TRANSACTION")
    conn.execute("UPDATE inventory.reorder_plan SET status = 'order', proposed_qty = 10, order_by = DATE '2026-11-20', "
                 "expected_arrival = DATE '2026-12-04' WHERE article_id = 'psm_late'")  # fmt: skip
    test = next(t for t in MODELS["inventory.reorder_proposals"].tests if t.name == "nothing_that_may_not_be_sold")
    assert run_test(conn, test).failing_rows == 1
    conn.execute("ROLLBACK")


def test_excel_export_in_german_never_overwritten(warehouse, tmp_path):
    conn, _ = warehouse
    now = dt.datetime(2026, 11, 20, 5, 30, tzinfo=dt.UTC)
    first = export_proposals(conn, tmp_path, now=now)
    second = export_proposals(conn, tmp_path, now=now)  # same second: a new folder, not an overwrite
    assert [f.path.parent.name for f in first + second] == ["20261120T053000Z", "20261120T053000Z-1"]
    path = first[0].path
    assert path == tmp_path / "reports" / "purchasing" / "t" / "20261120T053000Z" / FILE_NAME
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Bestellvorschlag", "Hinweise", "Prognosegüte", "Parameter"]
    orders = list(wb["Bestellvorschlag"].iter_rows(values_only=True))
    header = orders[0]
    assert header[:3] == ("Bestellen bis", "Lieferant", "Lager") and header[-1] == "Begründung"
    steady = next(r for r in orders[1:] if r[4] == "Artikel steady")
    assert steady[6] == 16 and steady[7] == "Sack" and steady[11] == Decimal("160.00") or steady[11] == 160
    assert wb["Bestellvorschlag"].cell(row=2, column=1).number_format == "DD.MM."
    notes = {r[3]: r for r in wb["Hinweise"].iter_rows(min_row=2, values_only=True)}
    assert notes["Artikel psm_late"][0] == "nicht bestellen (PSM-Zulassung)"
    assert notes["Artikel new"][0] == "manuell planen"
    params = dict(wb["Parameter"].iter_rows(values_only=True))
    assert params["Servicegrad"] == "95 %" and params["Bestellrhythmus (Tage)"] == 7
    manifest = [json.loads(line) for line in (tmp_path / "reports" / "manifest.jsonl").read_text().splitlines()]
    assert [m["sha256"] for m in manifest] == [f.sha256 for f in first + second]
    assert manifest[0]["path"] == "purchasing/t/20261120T053000Z/bestellvorschlag.xlsx"


def test_forecast_weeks_are_seven_days_from_the_day_after_and_only_weeks_with_sales_are_sales_weeks(warehouse):
    conn, _ = warehouse
    run_forecast(conn, ReorderConfig())  # here, so that mutation testing sees this test reach it
    weeks = conn.execute("SELECT DISTINCT week_start, week_end FROM inventory.demand_forecast ORDER BY 1").fetchall()
    assert weeks[0][0] == AS_OF + dt.timedelta(days=1)
    assert all(end == start + dt.timedelta(days=6) for start, end in weeks)
    sales_weeks = dict(conn.execute("SELECT article_id, sales_weeks FROM inventory.forecast_series").fetchall())
    assert sales_weeks["single"] == 1  # one sale in two years: sporadic, not 104 weeks
    assert sales_weeks["steady"] == 104


def test_a_run_outside_dagster_runs_both_purchasing_steps_for_the_proposals(warehouse):
    """compliance.engine (benchmarks, tests) runs the Python steps a model reads through: the
    proposals view needs the plan, and the plan the forecast. Run again, they plan every pair again."""
    conn, _ = warehouse
    plan = "SELECT article_id, warehouse_id FROM inventory.reorder_plan ORDER BY ALL"
    before = conn.execute(plan).fetchall()
    runners = steps_needed(conn, [MODELS["inventory.reorder_proposals"]])
    assert set(runners) == {DEMAND_FORECAST, REORDER_PLAN}
    for run in runners.values():
        run()
    assert conn.execute(plan).fetchall() == before
