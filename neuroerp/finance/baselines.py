"""The plans a finance team would make without an optimiser, valued like the optimum.

- "pay everything on the due date": no discount taken, nothing late that was not overdue already;
- "best saving first" (what the first Skonto optimiser did): invoices by discount in EUR, largest
  first, each switched to its Skonto day while the daily balance stays above the credit line;
- "best rate first": the same, ordered by the discount's effective annual rate.

They are also the optimiser's starting solutions, so its plan is never worse than any of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from neuroerp.finance.model import Option, Problem


def on_due_date(options: Sequence[Sequence[Option]]) -> list[Option]:
    """Each invoice on its last on-time option: the due date, or the first business day if overdue.

    `options`: per invoice, `Problem.on_time_options` (Skonto first where open, due last)."""
    return [opts[-1] for opts in options]


def _day_index(problem: Problem, option: Option) -> int:
    """Index of the option's day in the horizon; the horizon's length when it falls after it."""
    return min((option.day - problem.plan_day).days, problem.settings.horizon_days)


def greedy(problem: Problem, options: Sequence[Sequence[Option]], key: Callable[[Option], tuple]) -> list[Option]:
    """Start from the due-date plan; switch invoices to their Skonto day in the order of `key`
    (largest first) while every daily balance stays above the allowed floor."""
    chosen = on_due_date(options)
    base = np.array(problem.base_balances_cents(), dtype=np.int64)
    floor = np.array(problem.floor_cents(), dtype=np.int64)
    horizon = len(base)
    paid = np.zeros(horizon + 1, dtype=np.int64)
    for option in chosen:
        paid[_day_index(problem, option)] += option.pay_cents
    balance = base - np.cumsum(paid)[:horizon]
    skonto = [next((o for o in opts if o.kind == "skonto"), None) for opts in options]
    order = sorted((o for o in skonto if o is not None), key=key, reverse=True)
    for option in order:
        current = chosen[option.invoice]
        s, a = _day_index(problem, option), _day_index(problem, current)
        if s >= a:
            continue
        window = balance[s:a] - option.pay_cents
        if (window < floor[s:a]).any():
            continue
        balance[s:a] = window
        balance[a:] += current.pay_cents - option.pay_cents
        chosen[option.invoice] = option
    return chosen


def best_saving_first(problem: Problem, options: Sequence[Sequence[Option]]) -> list[Option]:
    return greedy(problem, options, key=lambda o: (o.skonto, o.invoice))


def best_rate_first(problem: Problem, options: Sequence[Sequence[Option]]) -> list[Option]:
    def rate(o: Option) -> tuple:
        inv = problem.invoices[o.invoice]
        return (inv.annual_rate_pct or 0, o.skonto, o.invoice)

    return greedy(problem, options, key=rate)
