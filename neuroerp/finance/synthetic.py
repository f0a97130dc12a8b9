"""Synthetic Skonto instances of any size (benchmark, tests): a Landhandel's payables with the
demo generator's term mix, and a cash position tight enough that not every discount fits."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import numpy as np

from neuroerp.finance.model import Cash, Invoice, PlanSettings, Problem, evaluate
from neuroerp.finance.money import from_cents

# (skonto %, skonto days, net days), weight: the supplier terms of neuroerp.seed.finance
TERMS = [((Decimal("2"), 10, 30), 0.45), ((Decimal("3"), 14, 45), 0.10), ((None, None, 30), 0.30),
         ((Decimal("1"), 8, 21), 0.15)]  # fmt: skip


def instance(
    n_invoices: int,
    seed: int = 0,
    plan_day: dt.date = dt.date(2026, 11, 2),
    tightness: float = 0.3,
    settings: PlanSettings | None = None,
) -> Problem:
    """n open invoices, none overdue, some dated up to 10 days ahead (entered early); the credit
    line covers the due-date plan and `tightness` of what taking every discount pays early."""
    rng = np.random.default_rng(seed)
    settings = settings or PlanSettings()
    picks = rng.choice(len(TERMS), size=n_invoices, p=[w for _, w in TERMS])
    nets = np.array([TERMS[k][0][2] for k in picks])
    ages = rng.integers(-10, nets)  # none overdue yet: the plan pays on time where the cash allows
    cents = np.round(np.exp(rng.normal(np.log(12_000), 1.0, size=n_invoices)) * 100).astype(np.int64) + 5_000
    invoices = []
    for k in range(n_invoices):
        pct, s_days, net = TERMS[picks[k]][0]
        invoices.append(
            Invoice(
                invoice_id=f"inv-{k:06d}",
                supplier_id=f"sup-{k % 997:04d}",
                invoice_no=f"ER-{k:07d}",
                invoice_date=plan_day - dt.timedelta(days=int(ages[k])),
                open_amount=from_cents(int(cents[k])),
                net_days=net,
                skonto_pct=pct,
                skonto_days=s_days,
            )
        )
    total = int(cents.sum())
    days = [plan_day + dt.timedelta(days=d) for d in range(1, settings.horizon_days + 1)]
    # receipts of the trade arrive on weekdays, with peaks mid-month; payroll on the 28th
    inflow = np.array([(1.6 if 10 <= d.day <= 20 else 0.8) * (d.weekday() < 5) for d in days])
    inflow = inflow / inflow.sum() * total * 0.9 * rng.uniform(0.9, 1.1, size=len(days))
    outflow = np.array([total * 0.05 if d.day == 28 else 0.0 for d in days])
    flows = {d: from_cents(int(round((i - o) * 1.0))) for d, i, o in zip(days, inflow, outflow, strict=True)}
    cash = Cash(
        position_day=plan_day - dt.timedelta(days=1),
        bank_balance=from_cents(int(total * 0.05)),
        credit_limit=Decimal(0),
        credit_rate_pct=Decimal("8.5"),
        net_flows=flows,
    )
    problem = Problem("synthetic", plan_day, invoices, cash, settings)
    # the credit line: what the due-date plan needs, plus `tightness` of what taking every open
    # discount would pay early
    on_time = [problem.on_time_options(i) for i in range(n_invoices)]
    due_plan = evaluate(problem, [opts[-1] for opts in on_time])
    early = sum(o.pay_cents for opts in on_time for o in opts if o.kind == "skonto")
    needed = max(0, -min(due_plan.balances_cents))
    problem.cash = replace(cash, credit_limit=from_cents(round(needed + tightness * early, -4)))
    return problem
