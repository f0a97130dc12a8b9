"""The SEPA payment run: a job (not an asset, so materialising everything never writes a payment
file) that the payments sensor starts after each new Skonto schedule."""

import datetime as dt

import dagster as dg
from pydantic import Field

from assets.finance.resources import FinanceSettings
from assets.resources import Warehouse
from neuroerp.finance.payment_run import SCHEMA, run_payments
from neuroerp.warehouse import scalar

SCHEDULE_ROWS = """
SELECT s.*, sup.name AS supplier_name, sup.iban, sup.bic
FROM finance.skonto_schedule AS s
LEFT JOIN staging.suppliers AS sup ON sup.supplier_id = s.supplier_id
WHERE s.plan_id = ?
"""


class PaymentRunConfig(dg.Config):
    """Which plan to pay and how far ahead (recorded with the run)."""

    plan_id: str = Field(default="", description="The skonto_schedule plan to pay (default: the current one).")
    days_ahead: int = Field(default=3, description="Pay what the plan schedules up to today + N days.")
    today: str = Field(default="", description="The run's day, YYYY-MM-DD (default: today).")


def payment_run_config(plan_id: str, days_ahead: int = 3) -> dict:
    return {"ops": {"write_payment_run": {"config": {"plan_id": plan_id, "days_ahead": days_ahead}}}}


@dg.op(pool="duckdb_warehouse", tags={"kind": "sepa"})
def write_payment_run(
    context: dg.OpExecutionContext, config: PaymentRunConfig, warehouse: Warehouse, finance: FinanceSettings
) -> dg.Output[dict]:
    """Write NEUROERP_HOME/payments/<tenant>/<UTC timestamp>/pain.001.xml (pain.001.001.09) for the
    payments of the plan due in the next N days, record them in the payment ledger, and list what
    was left out (already paid by an earlier run, invalid IBAN or BIC, Skonto day passed)."""
    today = dt.date.fromisoformat(config.today) if config.today else dt.date.today()
    with warehouse.connect(read_only=True) as conn:
        current = scalar(conn, "SELECT max(plan_id) FROM finance.skonto_schedule")
        plan_id = config.plan_id or current
        if plan_id != current:
            context.log.info(f"plan {plan_id} was superseded by {current}: its own run pays it")
            return dg.Output({"superseded_by": current}, metadata={"superseded_by": current})
        cursor = conn.execute(SCHEDULE_ROWS, [plan_id])
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    accounts = finance.accounts()
    tenants = sorted({r["tenant_id"] for r in rows})
    missing = [t for t in tenants if t not in accounts]
    if missing:
        raise dg.Failure(
            f"no debtor account configured for {', '.join(missing)}: set NEUROERP_PAYMENT_ACCOUNTS "
            '(JSON {"<tenant_id>": {"name": ..., "iban": ..., "bic": ...}}); nothing was written'
        )
    results = [run_payments(warehouse.home, t, rows, accounts[t], today, config.days_ahead) for t in tenants]
    table = "| tenant | file | payments | total EUR | left out |\n|---|---|---:|---:|---:|\n" + "\n".join(
        f"| {r.tenant_id} | {r.file or '(nothing due)'} | {len(r.included)} | {r.total:,.2f} | {len(r.excluded)} |"
        for r in results
    )
    excluded = [{"tenant_id": r.tenant_id, **e} for r in results for e in r.excluded]
    for e in excluded:
        context.log.warning(f"left out {e['tenant_id']} {e['invoice_no']}: {e['reason']}")
    summary = {"plan_id": plan_id, "files": [str(r.file) for r in results if r.file], "excluded": excluded}
    return dg.Output(
        summary,
        metadata={
            "plan_id": plan_id,
            "schema": SCHEMA,
            "payments": sum(len(r.included) for r in results),
            "total_eur": str(sum((r.total for r in results), start=0)),
            "runs": dg.MetadataValue.md(table),
            "left_out": dg.MetadataValue.json(excluded),
        },
    )


@dg.job(description="SEPA credit transfer file (pain.001.001.09) for the Skonto schedule's payments of the next days.")
def finance_payment_run():
    write_payment_run()
