"""The Skonto planning problem of one tenant, its payment options, and the exact value of a plan.

A plan pays each open AP invoice once and in full on one of its *options*:

- `skonto`: on the last business day of the discount window, paying the amount less the discount;
- `due`: on the last business day on or before the due date, paying the full amount;
- `late`: after the due date (only when no plan without it keeps the credit line, or when the
  invoice is overdue already), paying the full amount plus § 288 BGB default interest and the
  EUR 40 lump sum of § 288 (5) BGB.

Paying earlier inside the same option never helps: every daily balance is at least as high when
a payment leaves later, so the interest is at most as high and the credit line is kept whenever it
was kept before. So the latest business day of each window is the only day worth considering, and
a plan is one option per invoice. This is what keeps the model small (two binaries per invoice,
not one per day of the horizon) without losing optimality.

Every amount here is an exact Decimal (or integer cents); the solver's floats only pick options.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from neuroerp.finance.calendar import ONE_DAY, business_day_on_or_after, business_day_on_or_before
from neuroerp.finance.money import ZERO, from_cents, money, to_cents

# § 247 BGB base rate: 1.27 % since 2025-07-01 (Deutsche Bundesbank, announced in the Bundesanzeiger;
# the ECB's main refinancing rate stayed at 2.15 %, so the January 2026 adjustment left it unchanged).
# It changes every 1 January and 1 July: set NEUROERP_BASE_RATE_PCT (or the run config) when it does.
BASE_RATE_PCT = Decimal("1.27")
BASE_RATE_SOURCE = "Deutsche Bundesbank, Basiszinssatz nach § 247 BGB, 1.27 % in force since 2025-07-01"
B2B_DEFAULT_MARGIN_PCT = Decimal("9")  # § 288 (2) BGB: 9 points above the base rate when no consumer is party
LATE_FEE = Decimal("40.00")  # § 288 (5) BGB: lump sum per claim in default
LATE_GRID_DAYS = (1, 3, 7, 14, 21, 28, 35, 42, 49, 56)  # days late a fallback plan may choose


@dataclass(frozen=True)
class PlanSettings:
    """What a plan assumes; the asset's run configuration sets them."""

    horizon_days: int = 60
    base_rate_pct: Decimal = BASE_RATE_PCT
    late_fee: Decimal = LATE_FEE
    credit_day_count: int = 360  # act/360, as German banks charge current-account credit
    default_day_count: int = 365  # § 288 interest per calendar day of a 365-day year
    transfer_days: int = 0  # days between execution and the supplier's credit, when terms judge receipt
    time_limit_s: float = 10.0
    mip_rel_gap: float = 1e-4

    @property
    def default_rate_pct(self) -> Decimal:
        return self.base_rate_pct + B2B_DEFAULT_MARGIN_PCT


@dataclass(frozen=True)
class Invoice:
    """An open AP invoice, already checked (EUR, positive open amount, terms present)."""

    invoice_id: str
    supplier_id: str
    invoice_no: str
    invoice_date: dt.date
    open_amount: Decimal
    net_days: int
    skonto_pct: Decimal | None = None
    skonto_days: int | None = None

    @property
    def due_on(self) -> dt.date:
        return self.invoice_date + dt.timedelta(days=self.net_days)

    @property
    def skonto_until(self) -> dt.date | None:
        if self.skonto_pct is None or self.skonto_days is None:
            return None
        return self.invoice_date + dt.timedelta(days=self.skonto_days)

    @property
    def skonto_amount(self) -> Decimal:
        """The discount on what is still open, rounded half up to the cent."""
        if self.skonto_pct is None or self.skonto_days is None:
            return ZERO
        return money(self.open_amount * self.skonto_pct / 100)

    @property
    def annual_rate_pct(self) -> Decimal | None:
        """Effective annual rate of the discount: s / (1 - s) * 360 / (net days - skonto days)."""
        if self.skonto_pct is None or self.skonto_days is None or self.net_days <= self.skonto_days:
            return None
        s = self.skonto_pct / 100
        return money(s / (1 - s) * 360 / (self.net_days - self.skonto_days) * 100)


@dataclass(frozen=True)
class Cash:
    """The tenant's cash: the last bank statement, the credit line, and the expected flows after it."""

    position_day: dt.date
    bank_balance: Decimal
    credit_limit: Decimal
    credit_rate_pct: Decimal
    net_flows: Mapping[dt.date, Decimal] = field(default_factory=dict)  # inflow - outflow, days after the statement
    committed: Mapping[dt.date, Decimal] = field(default_factory=dict)  # payment runs already written, by execution day


@dataclass(frozen=True)
class Option:
    invoice: int  # index into Problem.invoices
    kind: str  # skonto | due | late
    day: dt.date
    pay_cents: int
    skonto: Decimal
    late_days: int
    late_interest: Decimal
    late_fee: Decimal

    @property
    def gain(self) -> Decimal:
        """What choosing it keeps, before credit interest: the discount less any default cost."""
        return self.skonto - self.late_interest - self.late_fee


@dataclass
class Problem:
    tenant_id: str
    plan_day: dt.date
    invoices: Sequence[Invoice]
    cash: Cash
    settings: PlanSettings = field(default_factory=PlanSettings)

    @property
    def days(self) -> list[dt.date]:
        return [self.plan_day + dt.timedelta(days=k) for k in range(self.settings.horizon_days)]

    @property
    def horizon_end(self) -> dt.date:
        return self.plan_day + dt.timedelta(days=self.settings.horizon_days - 1)

    def base_balances_cents(self) -> list[int]:
        """End-of-day balance of each day of the horizon before any planned invoice is paid."""
        cash = self.cash
        balance = to_cents(cash.bank_balance)
        for day, amount in sorted(cash.net_flows.items()):
            if cash.position_day < day < self.plan_day:
                balance += to_cents(amount)
        for day, amount in cash.committed.items():
            if cash.position_day < day < self.plan_day:
                balance -= to_cents(amount)
        out = []
        for day in self.days:
            if day > cash.position_day:
                balance += to_cents(cash.net_flows.get(day, ZERO)) - to_cents(cash.committed.get(day, ZERO))
            out.append(balance)
        return out

    def floor_cents(self) -> list[int]:
        """The lowest balance allowed each day: minus the credit line, or lower where the forecast alone
        breaks it (a shortfall no plan of invoices can avoid, reported, not hidden)."""
        limit = -to_cents(self.cash.credit_limit)
        return [min(limit, b) for b in self.base_balances_cents()]

    # ------------------------------------------------------------------------------ options

    def late_option(self, i: int, day: dt.date) -> Option:
        inv = self.invoices[i]
        late_days = max(0, (day + dt.timedelta(days=self.settings.transfer_days) - inv.due_on).days)
        interest = money(
            inv.open_amount * self.settings.default_rate_pct / 100 * late_days / self.settings.default_day_count
        )
        fee = self.settings.late_fee if late_days > 0 else ZERO
        return Option(i, "late" if late_days else "due", day, to_cents(inv.open_amount), ZERO, late_days, interest, fee)

    def on_time_options(self, i: int) -> list[Option]:
        """The skonto and due options that are still open on the plan day; an overdue invoice gets
        the first business day (late already)."""
        inv, shift = self.invoices[i], dt.timedelta(days=self.settings.transfer_days)
        options = []
        if inv.skonto_until is not None and inv.skonto_amount > 0:
            day = business_day_on_or_before(inv.skonto_until - shift)
            if day >= self.plan_day:
                pay = to_cents(inv.open_amount - inv.skonto_amount)
                options.append(Option(i, "skonto", day, pay, inv.skonto_amount, 0, ZERO, ZERO))
        due_day = business_day_on_or_before(inv.due_on - shift)
        if due_day >= self.plan_day:
            options.append(Option(i, "due", due_day, to_cents(inv.open_amount), ZERO, 0, ZERO, ZERO))
        else:
            options.append(self.late_option(i, business_day_on_or_after(self.plan_day)))
        return options

    def late_options(self, i: int) -> list[Option]:
        """Later days for the fallback when no on-time plan keeps the credit line: a grid of days
        late within the horizon, and the first business day after it."""
        inv = self.invoices[i]
        first = max(inv.due_on + ONE_DAY, self.plan_day)
        days = {business_day_on_or_after(inv.due_on + dt.timedelta(days=k)) for k in LATE_GRID_DAYS}
        days = {d for d in days if first <= d <= self.horizon_end}
        days.add(business_day_on_or_after(self.horizon_end + ONE_DAY))
        return [self.late_option(i, d) for d in sorted(days)]


# ---------------------------------------------------------------------------------- evaluation


@dataclass
class PlanValue:
    """The exact value of a plan: what it keeps, what it costs, and whether it keeps the credit line."""

    discounts: Decimal
    credit_interest: Decimal
    late_interest: Decimal
    late_fees: Decimal
    late_invoices: int
    min_headroom: Decimal  # lowest (balance + credit line) over the horizon; negative: the line is broken
    breach_days: int  # days the plan itself takes the balance below the allowed floor
    balances_cents: list[int]

    @property
    def net(self) -> Decimal:
        """Discounts kept minus credit interest and default costs, EUR."""
        return self.discounts - self.credit_interest - self.late_interest - self.late_fees

    @property
    def keeps_credit_line(self) -> bool:
        return self.breach_days == 0


def evaluate(problem: Problem, chosen: Sequence[Option]) -> PlanValue:
    """Value a plan (one option per invoice) exactly, in cents and Decimal."""
    days = problem.days
    index = {d: k for k, d in enumerate(days)}
    payments = [0] * len(days)
    for option in chosen:
        k = index.get(option.day)
        if k is not None:
            payments[k] += option.pay_cents
    base = problem.base_balances_cents()
    floor = problem.floor_cents()
    balances, running = [], 0
    for k in range(len(days)):
        running += payments[k]
        balances.append(base[k] - running)
    rate = problem.cash.credit_rate_pct / 100 / problem.settings.credit_day_count
    overdraft_cents = sum(max(0, -b) for b in balances)
    limit = to_cents(problem.cash.credit_limit)
    return PlanValue(
        discounts=sum((o.skonto for o in chosen), ZERO),
        credit_interest=money(from_cents(overdraft_cents) * rate),
        late_interest=sum((o.late_interest for o in chosen), ZERO),
        late_fees=sum((o.late_fee for o in chosen), ZERO),
        late_invoices=sum(1 for o in chosen if o.late_days > 0),
        min_headroom=from_cents(min((b + limit for b in balances), default=limit)),
        breach_days=sum(1 for b, f in zip(balances, floor, strict=True) if b < f),
        balances_cents=balances,
    )
