"""The Skonto schedule from the warehouse: read and check the inputs, plan each tenant, write
`finance.skonto_schedule` and its companions.

Bad input is excluded with its reason, never dropped silently: an invoice without terms, with a
negative amount or in a currency other than EUR, and every invoice of a tenant without a recent
cash position; the other invoices and tenants are still planned.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import duckdb

from neuroerp.finance.ledger import LedgerItem
from neuroerp.finance.model import Cash, Invoice, PlanSettings, Problem
from neuroerp.finance.money import ZERO, from_cents, money
from neuroerp.finance.solver import Solution, solve
from neuroerp.sqlmodels import PythonStep
from neuroerp.warehouse import transaction

SCHEDULE = "finance.skonto_schedule"
EXCLUDED = "finance.skonto_excluded"
CASH_PLAN = "finance.skonto_cash_plan"
PLANS = "finance.skonto_plans"
PAYMENT_RUN_ITEMS = "finance.payment_run_items"
PLAN_SKONTO = PythonStep(
    "skonto_schedule",
    writes=(SCHEDULE, EXCLUDED, CASH_PLAN, PLANS, PAYMENT_RUN_ITEMS),
    reads=("finance.open_payables", "raw.cash_positions", "raw.cash_forecast"),
)
MAX_POSITION_AGE_DAYS = 4  # a Friday statement still serves on Monday after a holiday weekend


@dataclass(frozen=True)
class Exclusion:
    tenant_id: str
    invoice_id: str | None  # None: the whole tenant
    reason: str


@dataclass
class Inputs:
    problems: list[Problem] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # planned, but worth knowing (missing forecast days, ...)


def invoice_problem(row: dict) -> tuple[Invoice | None, str | None, str | None]:
    """An open AP invoice row checked for planning: (invoice, None, note) or (None, reason, None)."""
    amount, gross = row["open_amount"], row["gross_amount"]
    if row["currency"] != "EUR":
        return None, f"currency {row['currency']!r}: only EUR invoices are paid by SEPA credit transfer", None
    if row["net_days"] is None:
        return None, "no payment terms (net days missing)", None
    if row["net_days"] < 0:
        return None, f"invalid payment terms: {row['net_days']} net days", None
    if amount is None or gross is None:
        return None, "amount missing", None
    if gross < 0 or amount < 0:
        return None, f"negative amount ({amount} EUR open): a credit note is offset, not paid", None
    if amount == 0:
        return None, "nothing left to pay although the invoice is open", None
    pct, days, note = row["skonto_pct"], row["skonto_days"], None
    if (pct is None) != (days is None):
        pct, days, note = None, None, "incomplete Skonto terms: planned without discount"
    elif pct is not None and not (0 < pct < 100 and 0 <= days <= row["net_days"]):
        note = f"implausible Skonto terms ({pct} % / {days} days, net {row['net_days']}): planned without discount"
        pct, days = None, None
    invoice = Invoice(
        invoice_id=row["invoice_id"],
        supplier_id=row["supplier_id"],
        invoice_no=row["invoice_no"],
        invoice_date=row["invoice_date"],
        open_amount=money(amount),
        net_days=row["net_days"],
        skonto_pct=Decimal(pct) if pct is not None else None,
        skonto_days=days,
    )
    return invoice, None, note


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = conn.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def read_inputs(
    conn: duckdb.DuckDBPyConnection, plan_day: dt.date, settings: PlanSettings, ledger: list[LedgerItem]
) -> Inputs:
    """Open AP invoices, cash positions and forecasts per tenant, checked; invoices already in a
    payment run are left out of the plan and their payments count as committed outflows."""
    out = Inputs()
    in_run = {item.invoice_id: item for item in ledger}
    invoices: dict[str, list[Invoice]] = defaultdict(list)
    for row in _rows(conn, "SELECT * FROM finance.open_payables ORDER BY tenant_id, invoice_date, invoice_id"):
        if row["invoice_id"] in in_run:
            item = in_run[row["invoice_id"]]
            out.excluded.append(
                Exclusion(row["tenant_id"], row["invoice_id"], f"in payment run {item.run_id} on {item.execution_date}")
            )
            continue
        invoice, reason, note = invoice_problem(row)
        if invoice is None:
            out.excluded.append(Exclusion(row["tenant_id"], row["invoice_id"], reason))
            continue
        if note:
            out.notes.append(f"{row['tenant_id']} {row['invoice_no']}: {note}")
        invoices[row["tenant_id"]].append(invoice)
    horizon_end = plan_day + dt.timedelta(days=settings.horizon_days - 1)
    committed: dict[str, dict[dt.date, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for item in ledger:
        committed[item.tenant_id][item.execution_date] += item.amount
    for tenant_id in sorted(invoices):
        position = _rows(
            conn,
            "SELECT * FROM raw.cash_positions WHERE tenant_id = ? AND as_of <= ? ORDER BY as_of DESC LIMIT 1",
            [tenant_id, plan_day],
        )
        reason = _cash_problem(position[0] if position else None, plan_day)
        if reason:
            out.excluded += [Exclusion(tenant_id, inv.invoice_id, reason) for inv in invoices[tenant_id]]
            continue
        pos = position[0]
        flows = {
            r["day"]: money(r["expected_inflow"] - r["expected_outflow"])
            for r in _rows(
                conn,
                "SELECT day, expected_inflow, expected_outflow FROM raw.cash_forecast "
                "WHERE tenant_id = ? AND day > ? AND day <= ?",
                [tenant_id, pos["as_of"], horizon_end],
            )
            if r["expected_inflow"] is not None and r["expected_outflow"] is not None
        }
        missing = [
            d
            for k in range(1, (horizon_end - pos["as_of"]).days + 1)
            if (d := pos["as_of"] + dt.timedelta(days=k)) not in flows
        ]
        if missing:
            out.notes.append(
                f"{tenant_id}: no cash forecast for {len(missing)} day(s) from {missing[0]} to {missing[-1]}: "
                "planned as no flows on those days"
            )
        cash = Cash(
            position_day=pos["as_of"],
            bank_balance=money(pos["bank_balance"]),
            credit_limit=money(pos["credit_line_limit"]),
            credit_rate_pct=Decimal(pos["credit_line_rate_pct"]),
            net_flows=flows,
            committed=dict(committed[tenant_id]),
        )
        out.problems.append(Problem(tenant_id, plan_day, invoices[tenant_id], cash, settings))
    return out


def _cash_problem(position: dict | None, plan_day: dt.date) -> str | None:
    if position is None:
        return f"no cash position on or before {plan_day}: cannot plan against the credit line"
    age = (plan_day - position["as_of"]).days
    if age > MAX_POSITION_AGE_DAYS:
        return (
            f"cash position missing for {plan_day}: the latest is from {position['as_of']} ({age} days old, "
            f"at most {MAX_POSITION_AGE_DAYS} accepted)"
        )
    for column in ("bank_balance", "credit_line_limit", "credit_line_rate_pct"):
        if position[column] is None:
            return f"cash position of {position['as_of']} has no {column}"
    if position["credit_line_limit"] < 0 or position["credit_line_rate_pct"] < 0:
        return f"cash position of {position['as_of']} has a negative credit line or rate"
    return None


# ------------------------------------------------------------------------------------ output


def schedule_rows(problem: Problem, solution: Solution) -> list[dict]:
    """One row per invoice: when to pay, how much, and whether with Skonto. Amounts exact."""
    rows = []
    for option in solution.chosen:
        inv = problem.invoices[option.invoice]
        late = option.late_days > 0
        rows.append(
            {
                "tenant_id": problem.tenant_id,
                "invoice_id": inv.invoice_id,
                "supplier_id": inv.supplier_id,
                "invoice_no": inv.invoice_no,
                "pay_on": option.day,
                "pay_amount": from_cents(option.pay_cents),
                "skonto_amount": option.skonto,
                "take_skonto": option.kind == "skonto",
                "annual_rate_pct": inv.annual_rate_pct,
                "open_amount": inv.open_amount,
                "due_on": inv.due_on,
                "skonto_until": inv.skonto_until,
                "late_days": option.late_days,
                "late_interest": option.late_interest,
                "late_fee": option.late_fee,
                "late_reason": (
                    None
                    if not late
                    else "overdue before planning"
                    if inv.due_on < problem.plan_day
                    else "cash: no plan keeps the credit line otherwise"
                ),
                "beyond_horizon": option.day > problem.horizon_end,
            }
        )
    return rows


SCHEDULE_COLUMNS = {
    "tenant_id": "VARCHAR NOT NULL", "invoice_id": "VARCHAR NOT NULL PRIMARY KEY", "supplier_id": "VARCHAR",
    "invoice_no": "VARCHAR", "pay_on": "DATE NOT NULL", "pay_amount": "DECIMAL(14,2) NOT NULL",
    "skonto_amount": "DECIMAL(14,2) NOT NULL", "take_skonto": "BOOLEAN NOT NULL", "annual_rate_pct": "DECIMAL(9,2)",
    "open_amount": "DECIMAL(14,2) NOT NULL", "due_on": "DATE", "skonto_until": "DATE",
    "late_days": "INTEGER NOT NULL", "late_interest": "DECIMAL(14,2) NOT NULL", "late_fee": "DECIMAL(14,2) NOT NULL",
    "late_reason": "VARCHAR", "beyond_horizon": "BOOLEAN NOT NULL",
    "plan_day": "DATE NOT NULL", "plan_id": "VARCHAR NOT NULL", "planned_at": "TIMESTAMPTZ NOT NULL",
}  # fmt: skip
SCHEDULE_DDL = f"CREATE TABLE {SCHEDULE} ({', '.join(f'{c} {t}' for c, t in SCHEDULE_COLUMNS.items())})"
PLANS_DDL = f"""CREATE TABLE IF NOT EXISTS {PLANS} (
    plan_id VARCHAR NOT NULL, tenant_id VARCHAR NOT NULL, plan_day DATE NOT NULL, planned_at TIMESTAMPTZ NOT NULL,
    invoices INTEGER, skonto_taken INTEGER, late INTEGER, discounts DECIMAL(14,2), credit_interest DECIMAL(14,2),
    late_cost DECIMAL(14,2), net DECIMAL(14,2), net_pay_on_due_date DECIMAL(14,2),
    net_best_saving_first DECIMAL(14,2), net_best_rate_first DECIMAL(14,2), min_headroom DECIMAL(14,2),
    credit_line_kept BOOLEAN, fallback BOOLEAN, status VARCHAR, mip_gap_pct DOUBLE, solve_seconds DOUBLE,
    PRIMARY KEY (plan_id, tenant_id))"""


@dataclass
class TenantPlan:
    problem: Problem
    solution: Solution
    rows: list[dict]


def plan(inputs: Inputs) -> list[TenantPlan]:
    out = []
    for problem in inputs.problems:
        solution = solve(problem)
        out.append(TenantPlan(problem, solution, schedule_rows(problem, solution)))
    return out


def write(
    conn: duckdb.DuckDBPyConnection,
    plans: list[TenantPlan],
    inputs: Inputs,
    ledger: list[LedgerItem],
    plan_id: str,
    planned_at: dt.datetime,
) -> None:
    """Replace the schedule, exclusions, cash plan and ledger mirror; append to the plan history.
    One transaction: readers see the previous plan or this one, never half."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS finance")
    conn.execute(PLANS_DDL)
    with transaction(conn):
        conn.execute(f"DROP TABLE IF EXISTS {SCHEDULE}")
        conn.execute(SCHEDULE_DDL)
        run = {"plan_id": plan_id, "planned_at": planned_at}
        rows = [
            [{**r, **run, "plan_day": p.problem.plan_day}[c] for c in SCHEDULE_COLUMNS] for p in plans for r in p.rows
        ]
        if rows:
            conn.executemany(f"INSERT INTO {SCHEDULE} VALUES ({', '.join('?' * len(SCHEDULE_COLUMNS))})", rows)
        conn.execute(
            f"CREATE OR REPLACE TABLE {EXCLUDED} (tenant_id VARCHAR, invoice_id VARCHAR, reason VARCHAR, "
            "plan_id VARCHAR)"
        )
        if inputs.excluded:
            conn.executemany(
                f"INSERT INTO {EXCLUDED} VALUES (?, ?, ?, ?)",
                [[e.tenant_id, e.invoice_id, e.reason, plan_id] for e in inputs.excluded],
            )
        conn.execute(
            f"CREATE OR REPLACE TABLE {CASH_PLAN} (tenant_id VARCHAR, day DATE, balance DECIMAL(16,2), "
            "credit_line DECIMAL(14,2), headroom DECIMAL(16,2), plan_id VARCHAR)"
        )
        cash_rows = [
            [p.problem.tenant_id, day, from_cents(b), p.problem.cash.credit_limit,
             from_cents(b) + p.problem.cash.credit_limit, plan_id]
            for p in plans
            for day, b in zip(p.problem.days, p.solution.value.balances_cents, strict=True)
        ]  # fmt: skip
        if cash_rows:
            conn.executemany(f"INSERT INTO {CASH_PLAN} VALUES (?, ?, ?, ?, ?, ?)", cash_rows)
        for p in plans:
            v, b = p.solution.value, p.solution.baselines
            conn.execute(
                f"INSERT INTO {PLANS} VALUES ({', '.join('?' * 20)})",
                [plan_id, p.problem.tenant_id, p.problem.plan_day, planned_at, len(p.rows),
                 sum(r["take_skonto"] for r in p.rows), v.late_invoices, v.discounts, v.credit_interest,
                 v.late_interest + v.late_fees, v.net, b["pay on due date"].net, b["best saving first"].net,
                 b["best rate first"].net, v.min_headroom, v.keeps_credit_line, p.solution.fallback,
                 p.solution.status, p.solution.mip_gap_pct, p.solution.solve_seconds],
            )  # fmt: skip
        conn.execute(
            f"CREATE OR REPLACE TABLE {PAYMENT_RUN_ITEMS} (run_id VARCHAR, tenant_id VARCHAR, invoice_id VARCHAR, "
            "supplier_id VARCHAR, amount DECIMAL(14,2), skonto_amount DECIMAL(14,2), execution_date DATE, "
            "end_to_end_id VARCHAR, file VARCHAR, created_at TIMESTAMPTZ)"
        )
        if ledger:
            conn.executemany(
                f"INSERT INTO {PAYMENT_RUN_ITEMS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[i.run_id, i.tenant_id, i.invoice_id, i.supplier_id, i.amount, i.skonto_amount, i.execution_date,
                  i.end_to_end_id, i.file, i.created_at] for i in ledger],
            )  # fmt: skip
