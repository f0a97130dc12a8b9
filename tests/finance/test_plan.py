"""The Skonto planner on hand-checkable instances: where greedy is wrong and the optimum is known,
window boundaries, cash that does not suffice, amounts to the cent, and the MIP against brute force.

Bad inputs tried (tests/finance/test_pipeline.py covers them through the warehouse): no terms,
negative amounts, a currency other than EUR, incomplete or implausible Skonto terms, no cash position.
"""

import datetime as dt
import itertools
import time
from decimal import Decimal as D

import pytest

from neuroerp.finance.baselines import best_rate_first, best_saving_first, on_due_date
from neuroerp.finance.calendar import business_day_on_or_before, easter_sunday, is_business_day
from neuroerp.finance.model import Cash, Invoice, PlanSettings, Problem, evaluate
from neuroerp.finance.money import money
from neuroerp.finance.schedule import MAX_POSITION_AGE_DAYS, _cash_problem, invoice_problem
from neuroerp.finance.solver import _fallback, solve
from neuroerp.finance.synthetic import instance

MONDAY = dt.date(2026, 6, 1)


def _invoice(name, amount, terms, dated=MONDAY - dt.timedelta(days=2)):
    pct, s_days, net = terms
    return Invoice(name, "s1", f"ER-{name}", dated, D(amount), net, None if pct is None else D(pct), s_days)


def _problem(invoices, balance="0", limit="0", flows=None, rate="8", settings=None):
    cash = Cash(MONDAY - dt.timedelta(days=1), D(balance), D(limit), D(rate), flows or {})
    return Problem("t", MONDAY, invoices, cash, settings or PlanSettings(horizon_days=60))


def _plan(solution):
    return {o.invoice: (o.kind, o.day) for o in solution.chosen}


def test_greedy_by_saving_or_rate_is_wrong_where_the_optimum_is_known():
    """12,000 EUR of room before the receipts of day 20: greedy takes A (saving 200, best rate too),
    after which neither B nor C fits; the optimum pays B and C early (saving 360)."""
    invoices = [
        _invoice("A", "10000.00", ("2", 10, 30)),  # 36.73 % a year
        _invoice("B", "6000.00", ("3", 14, 45)),  # 35.81 %
        _invoice("C", "6000.00", ("3", 14, 45)),
    ]
    problem = _problem(invoices, balance="12000.00", flows={MONDAY + dt.timedelta(days=20): D("30000.00")})
    solution = solve(problem)
    assert solution.value.discounts == D("360.00")
    assert solution.value.net == D("360.00")  # never in overdraft: no interest
    assert [o.kind for o in solution.chosen] == ["due", "skonto", "skonto"]
    assert solution.baselines["best saving first"].net == D("200.00")
    assert solution.baselines["best rate first"].net == D("200.00")
    assert solution.baselines["pay on due date"].net == D("0.00")
    assert solution.mip_gap_pct <= 0.01 and not solution.fallback and solution.value.keeps_credit_line
    # B and C leave on the last business day of their window: 2026-05-30 + 14 = Saturday 06-13 -> Friday 06-12
    assert {o.day for o in solution.chosen if o.kind == "skonto"} == {dt.date(2026, 6, 12)}


def test_interest_on_the_credit_line_is_priced_against_the_discount():
    """Taking 1 % Skonto on 100,000 EUR costs 99,000 EUR of credit for 13 days: at 8 % a year that is
    286 EUR, less than the 1,000 EUR discount, so it is taken; at 40 % (1,430 EUR) it is not."""
    inv = [_invoice("A", "100000.00", ("1", 8, 21), dated=MONDAY)]
    flows = {MONDAY + dt.timedelta(days=21): D("100000.00")}
    cheap = solve(_problem(inv, limit="200000.00", flows=flows, rate="8"))
    assert cheap.chosen[0].kind == "skonto"
    # overdraft of 99,000 from day 8 (Tuesday 06-09) to day 20 and the 100,000 due day: exact interest
    assert cheap.value.credit_interest == money(D("99000") * 13 * D("0.08") / 360)
    dear = solve(_problem(inv, limit="200000.00", flows=flows, rate="40"))
    assert dear.chosen[0].kind == "due" and dear.value.net == D("0.00")


@pytest.mark.parametrize(
    "plan_day, skonto_open",
    [(dt.date(2026, 6, 12), True), (dt.date(2026, 6, 13), False)],  # Friday = last Skonto day; Saturday after
)
def test_the_last_skonto_day_is_the_last_day_with_skonto(plan_day, skonto_open):
    inv = Invoice("A", "s", "ER-A", dt.date(2026, 6, 2), D("1000.00"), 30, D("2"), 10)  # window ends Fri 06-12
    problem = Problem("t", plan_day, [inv], Cash(plan_day, D("5000"), D("0"), D("8")))
    kinds = {o.kind: o.day for o in problem.on_time_options(0)}
    assert ("skonto" in kinds) is skonto_open
    if skonto_open:
        assert kinds["skonto"] == dt.date(2026, 6, 12) and solve(problem).chosen[0].kind == "skonto"


def test_a_window_ending_on_a_weekend_or_target_holiday_pays_the_business_day_before():
    assert easter_sunday(2026) == dt.date(2026, 4, 5) and not is_business_day(dt.date(2026, 4, 3))  # Good Friday
    assert business_day_on_or_before(dt.date(2026, 4, 6)) == dt.date(2026, 4, 2)  # Easter Monday -> Thursday
    inv = Invoice("A", "s", "ER-A", dt.date(2026, 3, 27), D("1000.00"), 30, D("2"), 10)  # until Easter Monday
    problem = Problem("t", dt.date(2026, 3, 30), [inv], Cash(dt.date(2026, 3, 27), D("5000"), D("0"), D("8")))
    assert problem.on_time_options(0)[0].day == dt.date(2026, 4, 2)


def test_amounts_are_exact_to_the_cent():
    inv = _invoice("A", "1234.25", ("2", 10, 30))  # 2 % = 24.685 -> 24.69 (half up)
    assert inv.skonto_amount == D("24.69") and inv.annual_rate_pct == D("36.73")
    solution = solve(_problem([inv], balance="5000.00"))
    (option,) = solution.chosen
    assert option.kind == "skonto" and option.pay_cents == 120956
    assert all(isinstance(v, D) for v in (solution.value.net, solution.value.credit_interest))
    with pytest.raises(TypeError):
        money(0.1)  # a float never becomes an amount


def test_infeasible_cash_flags_late_payment_priced_by_section_288_and_still_plans():
    """10,000 EUR due on day 5, nothing in the bank and no credit until 12,000 EUR arrive on day 10:
    no on-time plan exists, so it is paid late on the first grid day after the receipt, with
    § 288 (2) interest (base rate + 9 points) for the days late and the 40 EUR lump sum."""
    inv = [_invoice("A", "10000.00", (None, None, 5), dated=MONDAY), _invoice("B", "500.00", (None, None, 40))]
    problem = _problem(inv, flows={MONDAY + dt.timedelta(days=10): D("12000.00")})
    solution = solve(problem)
    a, b = solution.chosen
    assert solution.fallback and solution.value.keeps_credit_line
    assert a.kind == "late" and a.day == dt.date(2026, 6, 13 + 2)  # due Sat 06-06 +7 days = Sat 06-13 -> Mon 06-15
    assert a.late_days == 9
    assert a.late_interest == money(D("10000") * (D("1.27") + 9) / 100 * 9 / 365) == D("25.32")
    assert a.late_fee == D("40.00") and solution.value.late_invoices == 1
    assert b.kind == "due"  # B is not late: only what no plan can pay on time is
    assert not solution.baselines["pay on due date"].keeps_credit_line


def test_a_forecast_that_alone_breaks_the_credit_line_is_reported_not_hidden():
    problem = _problem([_invoice("A", "100.00", (None, None, 30))], flows={MONDAY + dt.timedelta(days=3): D("-500")})
    solution = solve(problem)
    assert solution.value.min_headroom == D("-500.00") and solution.value.breach_days == 0


@pytest.mark.parametrize("seed", range(4))
def test_the_mip_finds_the_brute_force_optimum_and_beats_every_baseline(seed):
    problem = instance(9, seed=seed, tightness=0.2, settings=PlanSettings(horizon_days=40))
    on_time = [problem.on_time_options(i) for i in range(len(problem.invoices))]
    best = max(
        (v for plan in itertools.product(*on_time) if (v := evaluate(problem, plan)).keeps_credit_line),
        key=lambda v: v.net,
    )
    solution = solve(problem)
    assert solution.value.net == best.net
    for plan in (on_due_date(on_time), best_saving_first(problem, on_time), best_rate_first(problem, on_time)):
        assert solution.value.net >= evaluate(problem, plan).net


@pytest.mark.parametrize(
    "row, reason",
    [
        ({"currency": "USD"}, "currency 'USD'"),
        ({"net_days": None}, "no payment terms"),
        ({"net_days": -3}, "invalid payment terms"),
        ({"open_amount": D("-50.00")}, "negative amount"),
        ({"gross_amount": D("-50.00"), "open_amount": D("-50.00")}, "negative amount"),
        ({"open_amount": D("0.00")}, "nothing left to pay"),
    ],
)
def test_bad_invoices_are_excluded_with_their_reason(row, reason):
    base = {"invoice_id": "i", "supplier_id": "s", "invoice_no": "ER-1", "invoice_date": MONDAY, "currency": "EUR",
            "gross_amount": D("100.00"), "open_amount": D("100.00"), "net_days": 30, "skonto_pct": D("2"),
            "skonto_days": 10}  # fmt: skip
    invoice, why, _ = invoice_problem({**base, **row})
    assert invoice is None and reason in why
    good, why, note = invoice_problem(base)
    assert good is not None and why is None and note is None
    for terms in ({"skonto_days": None}, {"skonto_pct": D("0")}, {"skonto_days": 40}):
        planned, why, note = invoice_problem({**base, **terms})
        assert planned.skonto_pct is None and why is None and "planned without discount" in note


def test_the_fallbacks_second_stage_gets_the_time_the_first_left():
    """Stage 2 of the fallback may take what is left of the run's time limit, not the floor of
    0.1 s that a wrong sum of the clock leaves it (the small instances here solve within either)."""
    inv = [_invoice("A", "10000.00", (None, None, 5), dated=MONDAY), _invoice("B", "500.00", (None, None, 40))]
    problem = _problem(inv, flows={MONDAY + dt.timedelta(days=10): D("12000.00")})
    on_time = [problem.on_time_options(i) for i in range(len(problem.invoices))]
    started = time.perf_counter()
    mip, *_ = _fallback(problem, on_time, evaluate(problem, on_due_date(on_time)), started)
    limit = problem.settings.time_limit_s
    _, given = mip.highs.getOptionValue("time_limit")
    assert limit - (time.perf_counter() - started) - 0.5 <= given <= limit


def test_a_cash_position_serves_up_to_its_age_limit_with_a_free_credit_line():
    position = {"as_of": MONDAY, "bank_balance": D("1000.00"), "credit_line_limit": D("0"),
                "credit_line_rate_pct": D("0")}  # fmt: skip
    oldest = MONDAY + dt.timedelta(days=MAX_POSITION_AGE_DAYS)
    assert _cash_problem(position, oldest) is None
    assert "5 days old" in _cash_problem(position, oldest + dt.timedelta(days=1))
    assert "no cash position" in _cash_problem(None, MONDAY)
    for column in ("bank_balance", "credit_line_limit", "credit_line_rate_pct"):
        assert f"has no {column}" in _cash_problem({**position, column: None}, MONDAY)
    for column in ("credit_line_limit", "credit_line_rate_pct"):
        assert "negative" in _cash_problem({**position, column: D("-0.01")}, MONDAY)
