"""Purchasing benchmark: reorder proposals for every article and warehouse at scale 1, with the
backtest, against the target of 60 seconds.

    scripts/bench reorder [--scale 1]

Seeds a throw-away PostgreSQL 15, ingests it into a DuckDB warehouse and builds the staging views
and compliance.settings (not timed), then times the purchasing run as the daily job does it: the
SQL inputs, the forecast with its rolling-origin backtest and model choice, the plan (policy,
PSM gating, capacity, reasons), the proposals view with its tests, and the Excel export. The
baseline, in the same run: the plainest seasonal forecast (last year's week, seasonal naive, no
backtest, no choice) for the same series, and its error next to the chosen models' on the
holdout weeks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

import duckdb

from bench.seeding import seeded_postgres
from neuroerp.contract import load_order
from neuroerp.ingest import ingest_table
from neuroerp.ingest.readers import PostgresReader
from neuroerp.inventory.config import ReorderConfig
from neuroerp.inventory.export import export_proposals
from neuroerp.inventory.forecast import SEASON_WEEKS, forecast_models, weekly_history
from neuroerp.inventory.plan import history_weeks, run_forecast, run_plan
from neuroerp.project import project_models
from neuroerp.sqlmodels import build, run_test

TARGET_S = 60.0
RESULTS = Path(__file__).parent / "results"
INPUTS = ("inventory.demand_weekly", "inventory.open_purchase_orders", "inventory.supplier_delivery",
          "inventory.reorder_inputs")  # fmt: skip


def prepare(url: str, path: Path, as_of: dt.date) -> int:
    """Ingest and staging, not timed; returns the rows ingested."""
    models = project_models()
    with duckdb.connect(str(path)) as conn:
        reader = PostgresReader(url)
        rows = sum(ingest_table(reader, conn, spec).rows_read for spec in load_order())
        for model in models:
            if model.schema == "staging":
                build(conn, model)
        build(conn, next(m for m in models if m.relation == "compliance.settings"), {"as_of": as_of.isoformat()})
    return rows


def seasonal_naive_baseline(conn: duckdb.DuckDBPyConnection, horizon: int) -> tuple[float, int]:
    """Seconds for last year's week as the forecast of every series (no backtest, no choice)."""
    started = time.perf_counter()
    as_of = conn.execute("SELECT as_of FROM compliance.settings").fetchall()[0][0]
    rows = conn.sql(
        "SELECT tenant_id, category, article_id, warehouse_id, weeks_back, quantity::DOUBLE AS quantity "
        "FROM inventory.demand_weekly"
    ).pl()
    history = weekly_history(rows, max(history_weeks(conn, as_of), SEASON_WEEKS))
    forecast_models(history.y, history.groups, horizon)
    return time.perf_counter() - started, history.y.shape[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    as_of = dt.date.today() - dt.timedelta(days=1)
    config = ReorderConfig()
    models = {m.relation: m for m in project_models()}
    timings: dict[str, float] = {}
    with seeded_postgres(args.scale, as_of) as (url, tmp):
        path = tmp / "warehouse.duckdb"
        rows = prepare(url, path, as_of)
        print(f"scale {args.scale}: {rows:,} rows ingested; timing the purchasing run", flush=True)
        with duckdb.connect(str(path)) as conn:
            started = time.perf_counter()
            for relation in INPUTS:
                build(conn, models[relation])
            timings["SQL inputs (demand per week, stock, orders)"] = time.perf_counter() - started
            mark = time.perf_counter()
            result = run_forecast(conn, config)
            timings["forecast + backtest (statsforecast)"] = time.perf_counter() - mark
            mark = time.perf_counter()
            summary = run_plan(conn, config)
            timings["plan: policy, PSM gating, capacity, reasons"] = time.perf_counter() - mark
            mark = time.perf_counter()
            build(conn, models["inventory.reorder_proposals"])
            failed = [t.name for t in models["inventory.reorder_proposals"].tests if not run_test(conn, t).passed]
            timings["proposals view + its tests"] = time.perf_counter() - mark
            mark = time.perf_counter()
            files = export_proposals(conn, tmp)
            timings["Excel export (one workbook per tenant)"] = time.perf_counter() - mark
            total = time.perf_counter() - started
            baseline_s, series = seasonal_naive_baseline(conn, result.weekly.shape[1])
            pairs = conn.execute("SELECT count(*) FROM inventory.reorder_plan").fetchall()[0][0]

    print(f"\nPurchasing run at scale {args.scale}: {pairs:,} articles x warehouses, {series:,} with sales history")
    print(f"{'step':48s} {'s':>7s}")
    print(f"{'-' * 48} {'-' * 7}")
    for name, seconds in timings.items():
        print(f"{name:48s} {seconds:7.2f}")
    print(f"{'all proposals with the backtest (target 60 s)':48s} {total:7.2f}")
    print(f"{'baseline: seasonal naive forecast only':48s} {baseline_s:7.2f}")

    print("\nBacktest on the holdout (last 16 weeks, never used to choose): WAPE by tenant and category")
    print(
        f"{'tenant':8s} {'category':13s} {'model chosen':18s} {'series':>6s} {'WAPE':>7s} {'naive':>7s} {'ratio':>6s}"
    )
    for c in result.choices:
        ours, naive = c.chosen_holdout_wape, c.seasonal_naive_holdout_wape
        ratio = f"{ours / naive:6.2f}" if ours is not None and naive else "     –"
        cells = [f"{100 * v:6.1f}%" if v is not None else "      –" for v in (ours, naive)]
        print(f"{c.tenant_id:8s} {c.category:13s} {c.model:18s} {c.series:6d} {cells[0]} {cells[1]} {ratio}")
    print("\nplan: " + ", ".join(f"{k} {v:,}" for k, v in summary.by_status.items()))
    print(f"proposals by tenant: {summary.proposals_by_tenant}; workbooks: {[f.path.name for f in files]}")
    if failed:
        print(f"proposal tests FAILED: {failed}")
    verdict = "meets" if total <= TARGET_S else "misses"
    print(f"{verdict} the target: {total:.1f} s for every article and warehouse at scale {args.scale}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "reorder.json").write_text(
        json.dumps(
            {"scale": args.scale, "seconds_total": total, "seconds": timings, "baseline_seconds": baseline_s,
             "pairs": pairs, "series": series, "by_status": summary.by_status,
             "wape_holdout": {f"{c.tenant_id}/{c.category}": [c.model, c.chosen_holdout_wape,
                                                              c.seasonal_naive_holdout_wape] for c in result.choices}},
            indent=1,
        )
    )  # fmt: skip


if __name__ == "__main__":
    main()
