"""Finance through the warehouse and Dagster: the demo ERP ingested into a real DuckDB file, the
finance SQL models, the Skonto schedule asset with bad input planted, the payment-run job writing
schema-valid pain.001 files without paying twice, and the sensor requesting one run per plan.

Bad inputs planted: an AP invoice without net days, one with a negative amount, one in USD, a tenant
without any cash position, a forecast with a missing day, a supplier with an invalid IBAN.
"""

import datetime as dt
import json
import shutil
from decimal import Decimal as D

import dagster as dg
import duckdb
import pytest
import xmlschema

from assets.finance.payments import finance_payment_run, payment_run_config
from assets.finance.resources import FinanceSettings
from assets.finance.schedule import skonto_schedule
from assets.resources import Warehouse
from neuroerp.finance.accounts import DEMO_ACCOUNTS
from neuroerp.finance.ledger import PaymentLedger
from neuroerp.finance.payment_run import XSD
from neuroerp.project import EXTERNAL, SQL_ROOT
from neuroerp.seed import seed_source
from neuroerp.sqlmodels import build, load_models
from sensors.payments import payment_run_on_new_schedule
from tests.conftest import AS_OF, SEED
from tests.ingest.conftest import ingest_all

PLAN_DAY = AS_OF  # Friday 2026-11-20
T0 = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)


def _add(conn, table: str, **values) -> None:
    cols = ", ".join(values)
    conn.execute(f"INSERT INTO raw.{table} ({cols}) VALUES ({', '.join('?' * len(values))})", list(values.values()))


def _invoice(conn, invoice_id, tenant="lh-nord", **values):
    row = dict(invoice_id=invoice_id, tenant_id=tenant, invoice_no=f"ER-{invoice_id}", kind="AP", partner_id="s-bad",
               invoice_date=dt.date(2026, 11, 10), net_amount=D("100.00"), tax_amount=D("19.00"),
               gross_amount=D("119.00"), currency="EUR", net_days=30, status="open", updated_at=T0)  # fmt: skip
    _add(conn, "invoices", **{**row, **values})


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A warehouse with the demo ERP (scale 0.01), staging and finance models, and planted bad input."""
    folder = tmp_path_factory.mktemp("finance")
    url = f"sqlite:///{folder / 'erp.sqlite'}"
    seed_source(url, scale=0.01, seed=SEED, as_of=AS_OF, create_schema=True)
    with duckdb.connect(str(folder / "warehouse.duckdb")) as conn:
        ingest_all(url, conn)
        _add(conn, "suppliers", supplier_id="s-bad", tenant_id="lh-nord", supplier_no="L-BAD", name="Falsche IBAN GmbH",
             country_code="DE", iban="DE89370400440532013001", bic="COBADEFFXXX", code_of_conduct_signed=True,
             updated_at=T0)  # fmt: skip
        _invoice(conn, "bad-terms", net_days=None)
        _invoice(conn, "bad-negative", gross_amount=D("-119.00"))
        _invoice(conn, "bad-usd", currency="USD")
        _invoice(conn, "bad-iban", skonto_pct=D("2"), skonto_days=10)  # planned, but never paid: invalid IBAN
        _invoice(conn, "no-cash", tenant="lh-west")
        conn.execute("DELETE FROM raw.cash_forecast WHERE tenant_id = 'lh-sued' AND day = DATE '2026-11-25'")
        for model in load_models(SQL_ROOT, EXTERNAL):
            if model.schema in ("staging", "finance"):
                build(conn, model, {"as_of": AS_OF.isoformat()} if model.variables else None)
    return folder


def _resources(home):
    return {
        "warehouse": Warehouse(home=str(home)),
        "finance": FinanceSettings(payment_accounts=json.dumps(DEMO_ACCOUNTS), base_rate_pct="1.27"),
    }


@pytest.fixture(scope="module")
def planned(home):
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [skonto_schedule],
        resources=_resources(home),
        instance=instance,
        run_config={"ops": {"finance__skonto_schedule": {"config": {"plan_day": PLAN_DAY.isoformat()}}}},
    )
    assert result.success
    return result, instance


def _rows(home, sql):
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        cursor = conn.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def test_the_schedule_plans_every_good_open_invoice_with_exact_amounts(home, planned):
    result, _ = planned
    schedule = _rows(home, "SELECT * FROM finance.skonto_schedule")
    good = _rows(
        home,
        "SELECT invoice_id FROM finance.open_payables WHERE currency = 'EUR' AND net_days IS NOT NULL "
        "AND open_amount > 0 AND gross_amount > 0 AND tenant_id <> 'lh-west'",
    )
    assert {r["invoice_id"] for r in schedule} == {r["invoice_id"] for r in good}
    assert all(r["pay_amount"] + r["skonto_amount"] == r["open_amount"] for r in schedule)
    assert all(isinstance(r[c], D) for r in schedule for c in ("pay_amount", "skonto_amount", "open_amount"))
    types = dict(
        (r["column_name"], r["data_type"])
        for r in _rows(home, "SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_schema = 'finance' AND table_name = 'skonto_schedule'")
    )  # fmt: skip
    assert (
        types["pay_amount"] == types["skonto_amount"] == "DECIMAL(14,2)" and types["annual_rate_pct"] == "DECIMAL(9,2)"
    )
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    for key in ("gain_over_pay_on_due_date_eur", "gain_over_best_saving_first_eur", "solve_seconds", "mip_gap_pct"):
        assert key in meta
    assert D(meta["gain_over_best_saving_first_eur"].value) >= 0 and D(meta["gain_over_pay_on_due_date_eur"].value) >= 0
    assert all(c.passed for c in result.get_asset_check_evaluations() if c.check_name != "nothing_paid_late")


def test_bad_input_is_excluded_with_its_reason_and_the_rest_planned(home, planned):
    result, _ = planned
    excluded = {r["invoice_id"]: r["reason"] for r in _rows(home, "SELECT * FROM finance.skonto_excluded")}
    assert "no payment terms" in excluded["bad-terms"]
    assert "negative amount" in excluded["bad-negative"]
    assert "currency 'USD'" in excluded["bad-usd"]
    assert "no cash position" in excluded["no-cash"]
    assert "bad-iban" not in excluded  # planned: the IBAN is the payment run's business
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert "bad-usd" in meta["excluded_reasons"].value and meta["excluded"].value == len(excluded)
    assert any("lh-sued: no cash forecast for 1 day(s) from 2026-11-25" in n for n in meta["notes"].value)


def _pay(home, plan_id: str, days_ahead: int = 60) -> dg.ExecuteInProcessResult:
    return finance_payment_run.execute_in_process(
        run_config={"ops": {"write_payment_run": {"config": {"plan_id": plan_id, "days_ahead": days_ahead,
                                                             "today": PLAN_DAY.isoformat()}}}},
        resources=_resources(home),
    )  # fmt: skip


def test_payment_runs_write_valid_pain001_and_never_pay_twice(home, planned, tmp_path):
    _, instance = planned
    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    (plan_id,) = {r["plan_id"] for r in _rows(copy, "SELECT plan_id FROM finance.skonto_schedule")}
    first = _pay(copy, plan_id)
    assert first.success
    files = sorted((copy / "payments").glob("*/*/pain.001.xml"))
    assert files and all(f.parent.parent.parent == copy / "payments" for f in files)
    schema = xmlschema.XMLSchema(str(XSD))
    schedule = {r["invoice_no"]: r for r in _rows(copy, "SELECT * FROM finance.skonto_schedule")}
    for f in files:
        schema.validate(str(f))  # raises on any deviation from pain.001.001.09
        doc = schema.to_dict(str(f))
        for pmt in doc["CstmrCdtTrfInitn"]["PmtInf"]:
            for tx in pmt["CdtTrfTxInf"]:
                row = schedule[tx["PmtId"]["EndToEndId"]]
                assert D(str(tx["Amt"]["InstdAmt"]["$"])) == row["pay_amount"]
    left_out = {e["invoice_id"]: e["reason"] for e in first.output_for_node("write_payment_run")["excluded"]}
    # and FIN-002's plants; since issue 9's demo data, also a supplier from a country without IBANs
    assert "bad-iban" in left_out and all(r == "no IBAN" or r.startswith("invalid IBAN") for r in left_out.values())
    paid = {i.invoice_id for i in PaymentLedger(copy).items()}
    assert paid == {r["invoice_id"] for r in schedule.values()} - set(left_out)
    second = _pay(copy, plan_id)
    assert second.success and sorted((copy / "payments").glob("*/*/pain.001.xml")) == files  # no new file
    reasons = [e["reason"] for e in second.output_for_node("write_payment_run")["excluded"]]
    assert sum("already in payment run" in r for r in reasons) == len(paid)
    # a new plan sees the paid invoices as committed, not as open work
    replanned = dg.materialize(
        [skonto_schedule], resources=_resources(copy),
        run_config={"ops": {"finance__skonto_schedule": {"config": {"plan_day": PLAN_DAY.isoformat()}}}},
    )  # fmt: skip
    assert replanned.success
    assert {r["invoice_id"] for r in _rows(copy, "SELECT invoice_id FROM finance.skonto_schedule")} == set(left_out)
    assert len(_rows(copy, "SELECT * FROM finance.payment_run_items")) == len(paid)


def test_the_sensor_requests_exactly_one_run_per_new_schedule(planned):
    _, instance = planned
    context = dg.build_sensor_context(instance=instance)
    first = list(payment_run_on_new_schedule(context) or [])
    (request,) = [r for r in first if isinstance(r, dg.RunRequest)]
    plan_id = instance.get_latest_materialization_event(skonto_schedule.key).run_id
    assert request.run_key == f"skonto_schedule:{plan_id}"
    assert request.run_config == payment_run_config(plan_id)
    again = dg.build_sensor_context(instance=instance, cursor=context.cursor)
    assert not [r for r in (payment_run_on_new_schedule(again) or []) if isinstance(r, dg.RunRequest)]


def test_skonto_after_its_window_per_section_193_and_the_marts(home):
    late = _rows(home, "SELECT * FROM finance.skonto_after_window")
    assert late and all(r["paid_on"] > r["skonto_deadline"] >= r["skonto_until"] for r in late if r["skonto_until"])
    abuse = _rows(home, "SELECT * FROM finance.ar_skonto_abuse")
    ar = [r for r in late if r["kind"] == "AR"]
    assert sum(r["amount_to_claim"] for r in abuse) == sum(r["skonto_amount"] for r in ar)
    missed = _rows(home, "SELECT * FROM finance.missed_skonto")
    assert missed and all(r["missed_amount"] == r["skonto_available"] - r["skonto_taken"] > 0 for r in missed)
    assert all(AS_OF - dt.timedelta(days=366) < r["last_paid_on"] <= AS_OF for r in missed)


@pytest.mark.parametrize(
    "paid_on, after",
    [
        (dt.date(2026, 10, 3), False),  # the deadline itself (Saturday, also a holiday): in time
        (dt.date(2026, 10, 5), False),  # § 193 BGB: the next workday is Monday 10-05
        (dt.date(2026, 10, 6), True),  # Tuesday: too late
    ],
)
def test_the_skonto_deadline_moves_to_the_next_workday(home, tmp_path, paid_on, after):
    copy = tmp_path / "w.duckdb"
    shutil.copy(home / "warehouse.duckdb", copy)
    with duckdb.connect(str(copy)) as conn:
        _invoice(conn, "ar-193", kind="AR", partner_id="c-1", invoice_date=dt.date(2026, 9, 23), skonto_pct=D("2"),
                 skonto_days=10, status="paid")  # fmt: skip
        _add(conn, "payments", payment_id="p-193", tenant_id="lh-nord", invoice_id="ar-193", paid_on=paid_on,
             amount=D("116.62"), skonto_amount=D("2.38"), updated_at=T0)  # fmt: skip
        found = conn.execute("SELECT days_after_window FROM finance.skonto_after_window WHERE payment_id = 'p-193'")
        assert bool(found.fetchall()) is after


def test_the_morning_schedule_and_the_sensor_give_valid_run_config():
    from assets.finance.jobs import finance_every_morning
    from pipelines.definitions import defs

    tick = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 11, 23, 6, 30, tzinfo=dt.UTC))
    request = finance_every_morning(tick)
    assert request.run_config["ops"]["finance__skonto_schedule"]["config"]["plan_day"] == "2026-11-23"
    assert dg.validate_run_config(defs.resolve_job_def("finance_daily"), request.run_config)
    assert dg.validate_run_config(finance_payment_run, payment_run_config("abc"))


def test_every_finance_model_passes_its_own_tests_on_the_demo_data(home):
    from neuroerp.sqlmodels import run_test

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        for model in load_models(SQL_ROOT, EXTERNAL):
            if model.schema == "finance":
                for test in model.tests:
                    outcome = run_test(conn, test)
                    assert outcome.passed, f"{model.relation}: {test.name}: {outcome.sample}"
