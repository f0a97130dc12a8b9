"""The Skonto plan as a mixed-integer programme, solved with HiGHS (highspy).

Per tenant, with the options of `neuroerp.finance.model` (at most two per invoice on time):

    maximise   sum_o gain_o * x_o  -  sum_t r * o_t            (discounts kept - default costs - credit interest)
    subject to sum_{o of i} x_o = 1                   for every invoice with a choice
               b_t - b_{t-1} + sum_{o on day t} pay_o * x_o = flow_t    for every day of the horizon
               o_t + b_t >= 0,  o_t >= 0                          (o_t: credit line used at the end of day t)
               b_t >= floor_t + headroom                          (floor: minus the credit line)
               x_o binary

with r = credit rate / 360 per day. Each option column has two non-zeros and each day three, so
10,000 invoices over 60 days is a model of about 20,000 binaries and 50,000 non-zeros.

Late payment exists only as a fallback: when the due-date plan already breaks the credit line, the
invoices get later days (`Problem.late_options`), and the plan is found lexicographically: first the
least § 288 cost of lateness any plan needs (stage 1), then the best plan at that cost (stage 2). So a
plan is late only where no plan without lateness keeps the credit line.

The best baseline is given to HiGHS as its starting solution: the optimum is never worse than it.
The solution's floats only choose options; amounts are then valued exactly (`model.evaluate`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass

import highspy
import numpy as np

from neuroerp.finance.baselines import best_rate_first, best_saving_first, on_due_date
from neuroerp.finance.model import Option, PlanValue, Problem, evaluate

UNIT = 100_000  # cents per model unit: cash rows in thousands of EUR keep HiGHS's numbers well scaled
HEADROOM = 1.0 / 1000  # 1 EUR kept above the floor, so solver tolerances never break the credit line
LATE_COST_SLACK_EUR = 1.0  # stage 2 may spend up to 0.1 % + 1 EUR more on lateness than the least


@dataclass
class Solution:
    chosen: list[Option]
    value: PlanValue
    baselines: dict[str, PlanValue]
    status: str
    mip_gap_pct: float  # proven relative gap between the plan and HiGHS's bound, in percent
    bound_eur: float | None  # HiGHS's bound on the objective (an upper bound for this maximisation)
    solve_seconds: float
    fallback: bool  # the due-date plan broke the credit line: late payment was priced in
    binaries: int
    rows: int
    nonzeros: int


@dataclass
class _Mip:
    columns: list[Option]  # the option of each binary column
    fixed: list[Option]  # invoices with one option only
    highs: highspy.Highs
    rows: int
    nonzeros: int


def _build(problem: Problem, options: Sequence[Sequence[Option]], objective: str) -> _Mip:
    """The MIP over the given options. objective: 'plan' (maximise what the plan keeps) or 'lateness'
    (minimise the § 288 cost of late payment)."""
    days = problem.days
    horizon = len(days)
    base = np.array(problem.base_balances_cents(), dtype=np.int64)
    floor_cents = np.array(problem.floor_cents(), dtype=np.int64)
    floor = (floor_cents + np.minimum(HEADROOM * UNIT, base - floor_cents)) / UNIT  # headroom where there is room
    flow = np.diff(base, prepend=0).astype(float) / UNIT
    columns, fixed, groups = [], [], []
    for opts in options:
        if len(opts) == 1:
            fixed.append(opts[0])
        else:
            groups.append(range(len(columns), len(columns) + len(opts)))
            columns.extend(opts)
    for option in fixed:
        k = (option.day - problem.plan_day).days
        if k < horizon:
            flow[k] -= option.pay_cents / UNIT
    rate = float(problem.cash.credit_rate_pct) / 100.0 / problem.settings.credit_day_count * UNIT / 100
    n_x, n_rows_cash = len(columns), 2 * horizon
    n_rows = n_rows_cash + len(groups)
    starts, index, value = [0], [], []
    cost = np.zeros(n_x + 2 * horizon)
    for c, option in enumerate(columns):
        k = (option.day - problem.plan_day).days
        if k < horizon:
            index.append(k)
            value.append(option.pay_cents / UNIT)
        starts.append(len(index))
        late = float(option.late_interest + option.late_fee)
        cost[c] = float(option.gain) if objective == "plan" else late
    group_of = np.empty(n_x, dtype=np.int64)
    for g, members in enumerate(groups):
        group_of[list(members)] = n_rows_cash + g
    # the assignment rows: insert each column's second non-zero, keeping row indices sorted
    idx, val, st = [], [], [0]
    for c in range(n_x):
        idx.extend(index[starts[c] : starts[c + 1]])
        val.extend(value[starts[c] : starts[c + 1]])
        idx.append(int(group_of[c]))
        val.append(1.0)
        st.append(len(idx))
    for k in range(horizon):  # b_k
        idx += [k] + ([k + 1] if k + 1 < horizon else []) + [horizon + k]
        val += [1.0] + ([-1.0] if k + 1 < horizon else []) + [1.0]
        st.append(len(idx))
    for k in range(horizon):  # o_k
        idx.append(horizon + k)
        val.append(1.0)
        st.append(len(idx))
        cost[n_x + horizon + k] = -rate if objective == "plan" else 0.0
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = n_x + 2 * horizon
    lp.num_row_ = n_rows
    lp.sense_ = highspy.ObjSense.kMaximize if objective == "plan" else highspy.ObjSense.kMinimize
    lp.col_cost_ = cost
    lp.col_lower_ = np.concatenate([np.zeros(n_x), floor, np.zeros(horizon)])
    lp.col_upper_ = np.concatenate([np.ones(n_x), np.full(2 * horizon, inf)])
    lp.row_lower_ = np.concatenate([flow, np.zeros(horizon), np.ones(len(groups))])
    lp.row_upper_ = np.concatenate([flow, np.full(horizon, inf), np.ones(len(groups))])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array(st, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(idx, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(val)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_x + [highspy.HighsVarType.kContinuous] * (2 * horizon)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("threads", 1)
    h.setOptionValue("mip_rel_gap", problem.settings.mip_rel_gap)
    h.passModel(lp)
    return _Mip(columns, fixed, h, n_rows, len(idx))


def _start(mip: _Mip, problem: Problem, chosen: Sequence[Option]) -> None:
    """Give HiGHS a complete feasible solution: the chosen options, their balances and credit used."""
    picked = {(o.invoice, o.kind, o.day) for o in chosen}
    x = [1.0 if (o.invoice, o.kind, o.day) in picked else 0.0 for o in mip.columns]
    balances = np.array(evaluate(problem, chosen).balances_cents, dtype=float) / UNIT
    solution = highspy.HighsSolution()
    solution.col_value = x + list(balances) + list(np.maximum(0.0, -balances))
    solution.value_valid = True
    mip.highs.setSolution(solution)


def _chosen(mip: _Mip) -> list[Option]:
    x = mip.highs.getSolution().col_value
    picked = [o for o, v in zip(mip.columns, x, strict=False) if v > 0.5]
    return sorted(mip.fixed + picked, key=lambda o: o.invoice)


def _run(mip: _Mip, seconds: float) -> tuple[str, float, float | None]:
    mip.highs.setOptionValue("time_limit", max(seconds, 0.1))
    mip.highs.run()
    info = mip.highs.getInfo()
    status = mip.highs.modelStatusToString(mip.highs.getModelStatus())
    bound = info.mip_dual_bound if np.isfinite(info.mip_dual_bound) else None
    return status, float(info.mip_gap), bound


def _deferred(problem: Problem, options: Sequence[Sequence[Option]], due_plan: PlanValue) -> list[Option]:
    """A starting plan for the fallback: the due-date plan, deferring invoices after the horizon
    (latest due first) until no day breaks the credit line. Always exists: the floor allows every
    day's balance before invoices."""
    chosen = [opts[0] if opts[0].kind == "late" else next(o for o in opts if o.kind != "skonto") for opts in options]
    floor = np.array(problem.floor_cents(), dtype=np.int64)
    balance = np.array(due_plan.balances_cents, dtype=np.int64)
    horizon = len(balance)
    for i in sorted(range(len(options)), key=lambda i: chosen[i].day, reverse=True):
        breach = np.flatnonzero(balance < floor)
        if not len(breach):
            break
        k = (chosen[i].day - problem.plan_day).days
        if k > breach[-1] or k >= horizon:
            continue
        balance[k:] += chosen[i].pay_cents
        chosen[i] = options[i][-1]
    return chosen


def _fallback(problem: Problem, on_time: Sequence[Sequence[Option]], due_plan: PlanValue, started: float):
    """No on-time plan is known to keep the credit line: give the invoices due before its last
    breached day later days, find the least § 288 cost of lateness (stage 1), then the best plan at
    that cost (stage 2)."""
    limit = problem.settings.time_limit_s
    floor = problem.floor_cents()
    last_breach = max(k for k, (b, f) in enumerate(zip(due_plan.balances_cents, floor, strict=True)) if b < f)
    last_day = problem.plan_day + dt.timedelta(days=last_breach)
    options = []
    for i, opts in enumerate(on_time):
        if opts[-1].day > last_day:
            options.append(opts)
            continue
        seen = {o.day for o in opts}
        options.append([*opts, *(o for o in problem.late_options(i) if o.day not in seen)])
    stage1 = _build(problem, options, "lateness")
    _start(stage1, problem, _deferred(problem, options, due_plan))
    _run(stage1, 0.6 * limit)
    least = _chosen(stage1)
    cap = 1.001 * float(sum(o.late_interest + o.late_fee for o in least)) + LATE_COST_SLACK_EUR
    mip = _build(problem, options, "plan")
    late_cost = np.array([float(o.late_interest + o.late_fee) for o in mip.columns])
    nz = np.flatnonzero(late_cost)
    fixed_late = sum(float(o.late_interest + o.late_fee) for o in mip.fixed)
    mip.highs.addRow(-highspy.kHighsInf, cap - fixed_late, len(nz), nz.astype(np.int32), late_cost[nz])
    _start(mip, problem, least)
    status, gap, bound = _run(mip, limit - (time.perf_counter() - started))
    return mip, status, gap, bound


def solve(problem: Problem) -> Solution:
    """The best plan for one tenant, with its baselines valued the same way."""
    started = time.perf_counter()
    limit = problem.settings.time_limit_s
    on_time = [problem.on_time_options(i) for i in range(len(problem.invoices))]
    plans = {
        "pay on due date": on_due_date(on_time),
        "best saving first": best_saving_first(problem, on_time),
        "best rate first": best_rate_first(problem, on_time),
    }
    baselines = {name: evaluate(problem, chosen) for name, chosen in plans.items()}
    fallback = not baselines["pay on due date"].keeps_credit_line
    if not fallback:
        mip = _build(problem, on_time, "plan")
        best = max((n for n in plans if baselines[n].keeps_credit_line), key=lambda n: baselines[n].net)
        _start(mip, problem, plans[best])
        status, gap, bound = _run(mip, limit)
    else:
        mip, status, gap, bound = _fallback(problem, on_time, baselines["pay on due date"], started)
    chosen = _chosen(mip)
    value = evaluate(problem, chosen)
    return Solution(
        chosen=chosen,
        value=value,
        baselines=baselines,
        status=status,
        mip_gap_pct=gap * 100.0,
        bound_eur=bound,
        solve_seconds=time.perf_counter() - started,
        fallback=fallback,
        binaries=len(mip.columns),
        rows=mip.rows,
        nonzeros=mip.nonzeros,
    )
