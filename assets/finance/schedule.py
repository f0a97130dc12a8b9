"""`finance/skonto_schedule`: the best Skonto payment plan under the cash at hand, per tenant."""

import datetime as dt
from decimal import Decimal

import dagster as dg
from pydantic import Field

from assets.finance.resources import FinanceSettings
from assets.freshness import DAILY
from assets.resources import Warehouse
from assets.run_order import run_order_tags
from assets.sqlmodels.factory import relation_key
from neuroerp.finance.ledger import PaymentLedger
from neuroerp.finance.model import BASE_RATE_SOURCE, PlanSettings
from neuroerp.finance.schedule import PLAN_SKONTO, TenantPlan, plan, read_inputs, write
from neuroerp.warehouse import scalar

SCHEDULE_KEY = relation_key(PLAN_SKONTO.relation)
CHECKS = {
    "amounts_add_up": (
        "pay_amount + skonto_amount equals the open amount on every row, to the cent",
        "SELECT * FROM finance.skonto_schedule WHERE pay_amount + skonto_amount <> open_amount",
        dg.AssetCheckSeverity.ERROR,
    ),
    "skonto_only_inside_its_window": (
        "a discount is taken only when the payment day is on or before the last Skonto day",
        "SELECT * FROM finance.skonto_schedule WHERE take_skonto AND (skonto_until IS NULL OR pay_on > skonto_until)",
        dg.AssetCheckSeverity.ERROR,
    ),
    "credit_line_kept": (
        "the planned daily balance never goes below minus the credit line (warns where the forecast alone breaks it)",
        "SELECT * FROM finance.skonto_cash_plan WHERE headroom < 0",
        dg.AssetCheckSeverity.WARN,
    ),
    "nothing_paid_late": (
        "no invoice is planned after its due date (warns with the late ones and why)",
        "SELECT invoice_no, due_on, pay_on, late_days, late_reason FROM finance.skonto_schedule WHERE late_days > 0",
        dg.AssetCheckSeverity.WARN,
    ),
}


class SkontoConfig(dg.Config):
    """What a plan assumes (recorded with the run)."""

    plan_day: str = Field(default="", description="First day of the plan, YYYY-MM-DD (default: today).")
    horizon_days: int = Field(default=60, description="Days planned ahead.")
    time_limit_s: float = Field(default=10.0, description="HiGHS time limit per tenant.")
    mip_rel_gap: float = Field(default=1e-4, description="Relative MIP gap at which HiGHS stops (1e-4 = 0.01 %).")
    transfer_days: int = Field(
        default=0, description="Days from execution to the supplier's credit, when terms judge receipt."
    )


def _eur(value: Decimal) -> str:
    return f"{value:,.2f}"


def _summary(plans: list[TenantPlan]) -> str:
    lines = [
        "| tenant | invoices | Skonto taken | discounts EUR | credit interest EUR | late cost EUR | net EUR "
        "| vs due date EUR | vs best saving first EUR | vs best rate first EUR | gap % | s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in plans:
        v, b = p.solution.value, p.solution.baselines
        lines.append(
            f"| {p.problem.tenant_id} | {len(p.rows)} | {sum(r['take_skonto'] for r in p.rows)} | "
            f"{_eur(v.discounts)} | {_eur(v.credit_interest)} | {_eur(v.late_interest + v.late_fees)} | "
            f"{_eur(v.net)} | {_eur(v.net - b['pay on due date'].net)} | {_eur(v.net - b['best saving first'].net)} | "
            f"{_eur(v.net - b['best rate first'].net)} | {p.solution.mip_gap_pct:.4f} | "
            f"{p.solution.solve_seconds:.2f} |"
        )
    return "\n".join(lines)


@dg.asset(
    key=SCHEDULE_KEY,
    deps=[relation_key(r) for r in PLAN_SKONTO.reads],
    group_name="finance",
    kinds={"python", "duckdb", "highs"},
    owners=["team:finance"],
    freshness_policy=DAILY,
    pool="duckdb_warehouse",
    op_tags=run_order_tags("finance.skonto_schedule"),
    check_specs=[
        dg.AssetCheckSpec(name, asset=SCHEDULE_KEY, description=text, blocking=severity == dg.AssetCheckSeverity.ERROR)
        for name, (text, _, severity) in CHECKS.items()
    ],
)
def skonto_schedule(
    context: dg.AssetExecutionContext, config: SkontoConfig, warehouse: Warehouse, finance: FinanceSettings
) -> dg.MaterializeResult:
    """For every open AP invoice: the day to pay within the horizon and whether to take Skonto.

    A mixed-integer programme solved with HiGHS per tenant: each invoice paid once and in full; the
    discount only inside its window; the daily balance (bank + forecast inflows - outflows -
    payments) never below minus the credit line; credit interest at its rate; late payment only
    where no plan keeps the credit line, priced with § 288 BGB default interest and flagged.
    Objective: discounts kept minus interest paid. The baselines "pay on due date", "best saving
    first" and "best rate first" are valued the same way. Invoices already in a payment run (the
    ledger under NEUROERP_HOME/payments) count as committed outflows. Also writes
    finance.skonto_excluded (bad input with its reason), finance.skonto_cash_plan (daily balance),
    finance.skonto_plans (history) and finance.payment_run_items (the ledger mirrored).
    """
    plan_day = dt.date.fromisoformat(config.plan_day) if config.plan_day else dt.date.today()
    settings = PlanSettings(
        horizon_days=config.horizon_days,
        base_rate_pct=finance.base_rate(),
        time_limit_s=config.time_limit_s,
        mip_rel_gap=config.mip_rel_gap,
        transfer_days=config.transfer_days,
    )
    ledger = PaymentLedger(warehouse.home).items()
    with warehouse.connect() as conn:
        inputs = read_inputs(conn, plan_day, settings, ledger)
    plans = plan(inputs)  # the solve runs without holding the warehouse
    with warehouse.connect() as conn:
        write(conn, plans, inputs, ledger, plan_id=context.run.run_id, planned_at=dt.datetime.now(dt.UTC))
        outcomes = {
            name: conn.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0] for name, (_, sql, _) in CHECKS.items()
        }
        quarantined = _quarantined(conn)
    for note in inputs.notes:
        context.log.warning(note)
    excluded_md = "| tenant | invoice | reason |\n|---|---|---|\n" + "\n".join(
        f"| {e.tenant_id} | {e.invoice_id or '(all)'} | {e.reason} |" for e in inputs.excluded
    )
    value = {
        "net": sum((p.solution.value.net for p in plans), Decimal(0)),
        **{
            name: sum((p.solution.value.net - p.solution.baselines[name].net for p in plans), Decimal(0))
            for name in ("pay on due date", "best saving first", "best rate first")
        },
    }
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(len(p.rows) for p in plans),
            "plan_id": context.run.run_id,
            "plan_day": plan_day.isoformat(),
            "horizon_days": config.horizon_days,
            "net_eur": str(value["net"]),
            "gain_over_pay_on_due_date_eur": str(value["pay on due date"]),
            "gain_over_best_saving_first_eur": str(value["best saving first"]),
            "gain_over_best_rate_first_eur": str(value["best rate first"]),
            "solve_seconds": round(sum(p.solution.solve_seconds for p in plans), 3),
            "mip_gap_pct": max((p.solution.mip_gap_pct for p in plans), default=0.0),
            "solver_status": ", ".join(f"{p.problem.tenant_id}: {p.solution.status}" for p in plans),
            "late_invoices": sum(p.solution.value.late_invoices for p in plans),
            "excluded": len(inputs.excluded),
            "excluded_reasons": dg.MetadataValue.md(excluded_md),
            "notes": dg.MetadataValue.json(inputs.notes),
            "in_payment_runs": len(ledger),
            "quarantined_finance_rows": dg.MetadataValue.json(quarantined),
            "base_rate_pct": str(settings.base_rate_pct),
            "base_rate_source": BASE_RATE_SOURCE,
            "by_tenant": dg.MetadataValue.md(_summary(plans)),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=name,
                passed=outcomes[name] == 0,
                severity=severity,
                metadata={"failing_rows": outcomes[name], "query": dg.MetadataValue.md(f"```sql\n{sql}\n```")},
            )
            for name, (_, sql, severity) in CHECKS.items()
        ],  # fmt: skip
    )


def _quarantined(conn) -> dict[str, int]:
    """Finance rows the ingest held back as structurally bad (e.g. a currency other than EUR)."""
    exists = scalar(
        conn,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'quarantine' AND table_name = 'rejected_rows'",
    )
    if not exists:
        return {}
    rows = conn.execute(
        "SELECT source_table, count(*) FROM quarantine.rejected_rows "
        "WHERE source_table IN ('invoices', 'payments', 'cash_positions', 'cash_forecast', 'suppliers') GROUP BY ALL"
    ).fetchall()
    return dict(rows)
