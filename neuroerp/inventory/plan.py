"""The reorder run in the warehouse: the demand forecast with its backtest, then the plan for
every article and warehouse (inventory.reorder_plan), from which the SQL model
inventory.reorder_proposals selects the proposals.

Declared as Python steps among the SQL models (what each writes and reads), so the asset graph
and runs outside Dagster (tests, the benchmark) follow the same order.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import duckdb
import numpy as np
import polars as pl

from neuroerp.inventory.config import ReorderConfig
from neuroerp.inventory.forecast import KEY, DemandForecast, forecast_demand, weekly_history
from neuroerp.inventory.policy import (
    CAPACITY,
    EXCLUDED,
    MASTER_DATA_ERROR,
    NO_HISTORY,
    ORDER,
    CapacityItem,
    PairInput,
    PairPlan,
    allocate_capacity,
    plan_pair,
)
from neuroerp.inventory.reasons import ReasonContext, reason
from neuroerp.sqlmodels import PythonStep
from neuroerp.warehouse import scalar, transaction

FORECAST = "inventory.demand_forecast"
SERIES = "inventory.forecast_series"
BACKTEST = "inventory.forecast_backtest"
PLAN = "inventory.reorder_plan"
DEMAND_FORECAST = PythonStep(
    "demand_forecast",
    writes=(FORECAST, SERIES, BACKTEST),
    # the first order of all fixes the weeks of history, the longest lead time the horizon
    reads=("inventory.demand_weekly", "compliance.settings", "staging.sales_order_lines", "staging.all_articles"),
)
REORDER_PLAN = PythonStep(
    "reorder_plan",
    writes=(PLAN,),
    reads=("inventory.reorder_inputs", "inventory.open_purchase_orders", FORECAST, SERIES, "compliance.settings"),
)


def _replace(conn: duckdb.DuckDBPyConnection, relation: str, frame: pl.DataFrame) -> None:
    schema = relation.split(".")[0]
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    conn.register("_frame", frame.to_arrow())
    try:
        conn.execute(f"CREATE OR REPLACE TABLE {relation} AS SELECT * FROM _frame")
    finally:
        conn.unregister("_frame")


def as_of_day(conn: duckdb.DuckDBPyConnection) -> dt.date:
    return scalar(conn, "SELECT as_of FROM compliance.settings")


# ------------------------------------------------------------------------------- forecast


def history_weeks(conn: duckdb.DuckDBPyConnection, as_of: dt.date, cap: int = 156) -> int:
    """Full weeks between the first order in the warehouse and the as-of day (at most `cap`)."""
    first = scalar(conn, "SELECT min(order_date) FROM staging.sales_order_lines WHERE went_ahead")
    if first is None:
        return 0
    return max(0, min(cap, ((as_of - first).days + 1) // 7))


def run_forecast(
    conn: duckdb.DuckDBPyConnection, config: ReorderConfig, horizon_weeks: int | None = None
) -> DemandForecast:
    """Backtest, choose and forecast; writes the forecast, its per-series errors and the backtest."""
    as_of = as_of_day(conn)
    weeks = history_weeks(conn, as_of)
    rows = conn.sql(
        "SELECT tenant_id, category, article_id, warehouse_id, weeks_back, quantity::DOUBLE AS quantity "
        "FROM inventory.demand_weekly"
    ).pl()
    history = weekly_history(rows, max(weeks, 1))
    horizon = horizon_weeks or forecast_horizon_weeks(conn, config)
    result = forecast_demand(history, config, horizon)
    n = result.keys.height
    long = result.keys.select(*KEY).with_columns(model=pl.Series(result.model.astype(str)))
    long = long.with_columns(
        week=pl.Series([list(range(1, horizon + 1))] * n, dtype=pl.List(pl.Int32)),
        quantity=pl.Series(result.weekly.round(4).tolist(), dtype=pl.List(pl.Float64)),
    ).explode("week", "quantity")
    long = long.with_columns(week_start=pl.lit(as_of) + pl.duration(days=(pl.col("week") - 1) * 7 + 1)).with_columns(
        week_end=pl.col("week_start") + pl.duration(days=6)
    )
    series = result.keys.with_columns(
        model=pl.Series(result.model.astype(str)),
        sigma_weekly=pl.Series(result.sigma_weekly),
        sales_weeks=pl.Series(result.sales_weeks.astype(np.int32)),
        mean_weekly_last_year=pl.Series(result.mean_weekly),
        history_weeks=pl.lit(result.history_weeks, pl.Int32),
        as_of=pl.lit(as_of),
    )
    with transaction(conn):
        _replace(conn, FORECAST, long.with_columns(pl.col("week").cast(pl.Int32)))
        _replace(conn, SERIES, series)
        _replace(conn, BACKTEST, backtest_frame(result, as_of))
    return result


def backtest_frame(result: DemandForecast, as_of: dt.date) -> pl.DataFrame:
    rows = []
    for c in result.choices:
        for model in sorted(set(c.selection_wape) | set(c.holdout_wape) | {c.model}):
            rows.append(
                {
                    "tenant_id": c.tenant_id,
                    "category": c.category,
                    "model": model,
                    "chosen": model == c.model,
                    "series": c.series,
                    "wape_selection": c.selection_wape.get(model),
                    "wape_holdout": c.holdout_wape.get(model),
                    "holdout_windows": c.holdout_windows,
                    "as_of": as_of,
                }
            )
    schema = {
        "tenant_id": pl.String, "category": pl.String, "model": pl.String, "chosen": pl.Boolean,
        "series": pl.Int32, "wape_selection": pl.Float64, "wape_holdout": pl.Float64,
        "holdout_windows": pl.Int32, "as_of": pl.Date,
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


def forecast_horizon_weeks(conn: duckdb.DuckDBPyConnection, config: ReorderConfig) -> int:
    """The configured horizon, longer where an article's lead time plus the review period needs it."""
    longest = scalar(conn, "SELECT max(lead_time_days) FROM staging.all_articles") or 0
    lead = max(int(longest), config.default_lead_time_days)
    return max(config.horizon_weeks, math.ceil((lead + config.review_period_days) / 7) + 1)


# ----------------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class PlanSummary:
    rows: int
    by_status: dict[str, int]
    proposals_by_tenant: dict[str, int]
    as_of: dt.date


PLAN_SCHEMA = {
    "tenant_id": pl.String, "article_id": pl.String, "warehouse_id": pl.String, "status": pl.String,
    "proposed_qty": pl.Decimal(14, 3), "order_by": pl.Date, "reason": pl.String,
    "article_no": pl.String, "article_name": pl.String, "category": pl.String, "unit": pl.String,
    "supplier_id": pl.String, "supplier_name": pl.String, "warehouse_name": pl.String,
    "unit_cost": pl.Decimal(14, 2), "pack_size": pl.Decimal(14, 3), "min_order_qty": pl.Decimal(14, 3),
    "lead_time_days": pl.Int32, "lead_time_assumed": pl.Boolean, "expected_arrival": pl.Date,
    "forecast_model": pl.String, "sales_weeks": pl.Int32,
    "mean_daily_demand": pl.Float64, "sigma_daily_demand": pl.Float64, "sigma_lead_time_days": pl.Float64,
    "demand_lead_time": pl.Float64, "demand_lead_time_review": pl.Float64, "safety_stock": pl.Float64,
    "reorder_point": pl.Float64, "order_up_to": pl.Float64, "required_qty": pl.Float64,
    "on_hand": pl.Float64, "reserved": pl.Float64, "open_po_in_time": pl.Float64, "available": pl.Float64,
    "stock_lasts_until": pl.Date, "season_peak_from": pl.Date,
    "psm_sellable_until": pl.Date, "psm_sellable_limit": pl.Float64,
    "precursor_annex": pl.String, "customer_statement_required": pl.Boolean,
    "capacity_limited": pl.Boolean, "service_level": pl.Float64, "review_period_days": pl.Int32,
    "as_of": pl.Date, "computed_at": pl.Datetime("us", "UTC"),
}  # fmt: skip


def _daily(weekly: np.ndarray, days: int) -> np.ndarray:
    """Daily demand from weekly forecasts (a seventh of the week each day), padded to `days` with
    the last week's rate where a lead time reaches past the horizon."""
    daily = np.repeat(np.asarray(weekly, dtype=float) / 7.0, 7)
    if len(daily) < days:
        daily = np.concatenate([daily, np.full(days - len(daily), daily[-7:].mean() if len(daily) else 0.0)])
    return daily


def _num(x) -> float:
    return float(x) if x is not None else 0.0


def _bad_master_data(row: dict) -> str | None:
    if row["pack_size"] is None or float(row["pack_size"]) <= 0:
        return "Gebindegröße fehlt oder ist nicht positiv"
    if row["min_order_qty"] is not None and float(row["min_order_qty"]) < 0:
        return "Mindestbestellmenge ist negativ"
    if row["lead_time_days"] is not None and row["lead_time_days"] < 0:
        return "Lieferzeit ist negativ"
    return None


def build_plan(
    inputs: pl.DataFrame,
    open_po: pl.DataFrame,
    forecast: dict[tuple[str, str], np.ndarray],
    series: dict[tuple[str, str], dict],
    config: ReorderConfig,
    as_of: dt.date,
    history_weeks: int,
    now: dt.datetime | None = None,
) -> pl.DataFrame:
    """One plan row per input row (article and warehouse); `history_weeks`: how far back the
    forecast looked (for the reason of articles without sales)."""
    now = now or dt.datetime.now(dt.UTC)
    pos: dict[tuple[str, str], list[tuple[dt.date, float]]] = {}
    for aid, wid, day, qty in open_po.select("article_id", "warehouse_id", "expected_on", "quantity").iter_rows():
        pos.setdefault((aid, wid), []).append((day or as_of, float(qty)))
    z = config.z
    review = config.review_period_days
    records: list[dict] = []
    plans: list[PairPlan | None] = []
    contexts: list[ReasonContext] = []
    cum_by_row: list[np.ndarray] = []
    horizon_days = 7 * max((len(v) for v in forecast.values()), default=config.horizon_weeks)
    for row in inputs.iter_rows(named=True):
        key = (row["article_id"], row["warehouse_id"])
        lead_assumed = row["lead_time_days"] is None
        lead = config.default_lead_time_days if lead_assumed else int(row["lead_time_days"])
        pack = _num(row["pack_size"])
        moq = _num(row["min_order_qty"])
        info = series.get(key)
        sigma_lead = (
            float(row["supplier_delay_std_days"] or 0.0)
            if row["supplier_receipts"] >= config.min_deliveries
            else config.default_lead_time_cv * lead
        )
        ctx = ReasonContext(
            unit=row["unit"],
            lead_time_days=max(lead, 0),
            lead_time_assumed=lead_assumed,
            review_period_days=review,
            pack_size=pack,
            min_order_qty=moq,
            sales_weeks=int(info["sales_weeks"]) if info else 0,
            history_weeks=history_weeks,
            precursor_annex=row["precursor_annex"],
            psm_authorized_until=row["psm_authorized_until"],
            psm_sellable_until=row["psm_sellable_until"],
            psm_withdrawn_for_risk=row["psm_withdrawal_kind"] == "authority_risk",
            psm_end_near=row["psm_sellable_until"] is not None
            and row["psm_sellable_until"] <= as_of + dt.timedelta(days=365),
            sporadic=info is not None and 0 < int(info["sales_weeks"]) < config.min_sales_weeks,
            has_supplier=row["supplier_id"] is not None,
            inactive=not row["is_active"],
            deleted=row["is_deleted"],
        )
        status, text, plan, daily = None, None, None, None
        bad = _bad_master_data(row)
        if row["is_deleted"] or not row["is_active"]:
            status = EXCLUDED
        elif bad:
            status, text = MASTER_DATA_ERROR, f"Stammdatenfehler: {bad}: kein Vorschlag, bitte Artikelstamm pflegen."
        elif info is None or int(info["sales_weeks"]) == 0:
            status = NO_HISTORY
        else:
            daily = _daily(forecast[key], max(horizon_days, lead + review))
            plan = plan_pair(
                PairInput(
                    as_of=as_of,
                    daily_forecast=daily,
                    sigma_daily=float(info["sigma_weekly"]) / math.sqrt(7),
                    lead_time_days=lead,
                    sigma_lead_days=sigma_lead,
                    with_safety_stock=int(info["sales_weeks"]) >= config.min_sales_weeks,
                    review_period_days=review,
                    z=z,
                    pack_size=pack,
                    min_order_qty=moq,
                    on_hand=_num(row["on_hand"]),
                    reserved=_num(row["reserved"]),
                    open_po=tuple(pos.get(key, ())),
                    psm_sellable_until=row["psm_sellable_until"],
                    psm_authorization_unknown=bool(row["psm_authorization_unknown"]),
                    past_mean_daily=float(info["mean_weekly_last_year"]) / 7,
                    peak_factor=config.peak_factor,
                )
            )
            status = plan.status
        if plan is None:  # no forecast: the stock as it stands
            available = _num(row["on_hand"]) - _num(row["reserved"])
            plan = PairPlan(
                status, 0.0, 0.0, None, None, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, available, 0.0, None, None, None, None
            )
        cum = np.concatenate([[0.0], np.cumsum(daily)]) if daily is not None else np.zeros(horizon_days + 1)
        plans.append(plan)
        contexts.append(ctx)
        cum_by_row.append(cum)
        records.append({"row": row, "status": status, "text": text, "lead": lead, "sigma_lead": sigma_lead,
                        "info": info})  # fmt: skip
    _apply_capacity(inputs, records, plans, contexts, cum_by_row, pos, config, as_of)
    out = []
    for rec, plan, ctx in zip(records, plans, contexts, strict=True):
        row, info, status = rec["row"], rec["info"], rec["status"]
        text = rec["text"] or reason(plan, ctx, status)
        out.append(
            {
                "tenant_id": row["tenant_id"], "article_id": row["article_id"], "warehouse_id": row["warehouse_id"],
                "status": status, "proposed_qty": plan.proposed_qty if status == ORDER else 0.0,
                "order_by": plan.order_by if status == ORDER else None, "reason": text,
                "article_no": row["article_no"], "article_name": row["article_name"], "category": row["category"],
                "unit": row["unit"], "supplier_id": row["supplier_id"], "supplier_name": row["supplier_name"],
                "warehouse_name": row["warehouse_name"], "unit_cost": row["unit_cost"], "pack_size": row["pack_size"],
                "min_order_qty": row["min_order_qty"], "lead_time_days": rec["lead"],
                "lead_time_assumed": ctx.lead_time_assumed,
                "expected_arrival": plan.expected_arrival if status == ORDER else None,
                "forecast_model": info["model"] if info else None, "sales_weeks": ctx.sales_weeks,
                "mean_daily_demand": plan.mean_daily,
                "sigma_daily_demand": float(info["sigma_weekly"]) / math.sqrt(7) if info else None,
                "sigma_lead_time_days": rec["sigma_lead"], "demand_lead_time": plan.demand_lead_time,
                "demand_lead_time_review": plan.demand_protection, "safety_stock": plan.safety_stock,
                "reorder_point": plan.reorder_point, "order_up_to": plan.order_up_to,
                "required_qty": plan.required_qty, "on_hand": _num(row["on_hand"]),
                "reserved": _num(row["reserved"]), "open_po_in_time": plan.open_po_in_time,
                "available": plan.available, "stock_lasts_until": plan.stock_lasts_until,
                "season_peak_from": plan.season_peak_from, "psm_sellable_until": row["psm_sellable_until"],
                "psm_sellable_limit": plan.sellable_limit, "precursor_annex": row["precursor_annex"],
                "customer_statement_required": row["precursor_annex"] in ("I", "II"),
                "capacity_limited": ctx.capacity_cut or status == CAPACITY,
                "service_level": config.service_level, "review_period_days": review, "as_of": as_of,
                "computed_at": now,
            }
        )  # fmt: skip
    frame = pl.DataFrame(out, schema=PLAN_SCHEMA, strict=False)
    return frame.with_columns(pl.col(pl.Float64).round(4)).sort("tenant_id", "order_by", "article_no", "warehouse_id")


def _apply_capacity(inputs, records, plans, contexts, cum_by_row, pos, config, as_of) -> None:
    """Cut proposals to the room each warehouse has at their arrival (in place)."""
    by_warehouse: dict[str, list[int]] = {}
    for i, rec in enumerate(records):
        by_warehouse.setdefault(rec["row"]["warehouse_id"], []).append(i)
    for indexes in by_warehouse.values():
        capacity = records[indexes[0]]["row"]["capacity_t"]
        if capacity is None:
            continue
        stock, proposals = [], []
        for i in indexes:
            row, plan = records[i]["row"], plans[i]
            tonnes = config.kg_per_unit.get(row["unit"], 0.0) / 1000.0
            arrivals = tuple(((d - as_of).days, q) for d, q in pos.get((row["article_id"], row["warehouse_id"]), ()))
            item = CapacityItem(
                index=i,
                tonnes_per_unit=tonnes,
                available=_num(row["on_hand"]) - _num(row["reserved"]),
                arrivals=arrivals,
                cum_demand=cum_by_row[i],
                proposed_qty=plan.proposed_qty if records[i]["status"] == ORDER else 0.0,
                arrival_day=records[i]["lead"],
                pack_size=_num(row["pack_size"]) or 1.0,
                min_order_qty=_num(row["min_order_qty"]),
                priority=(plan.order_by or as_of, row["article_no"] or ""),
            )
            stock.append(item)
            if item.proposed_qty > 0:
                proposals.append(item)
        for i, (qty, free) in allocate_capacity(float(capacity), stock, proposals).items():
            if qty < plans[i].proposed_qty:
                contexts[i] = replace(contexts[i], capacity_cut=qty > 0, capacity_free_t=free)
                if qty > 0:
                    plans[i] = replace(plans[i], proposed_qty=qty)
                else:
                    records[i]["status"] = CAPACITY


def run_plan(conn: duckdb.DuckDBPyConnection, config: ReorderConfig) -> PlanSummary:
    """The plan for every article and warehouse of inventory.reorder_inputs, into inventory.reorder_plan."""
    as_of = as_of_day(conn)
    inputs = conn.sql("SELECT * FROM inventory.reorder_inputs ORDER BY tenant_id, article_id, warehouse_id").pl()
    open_po = conn.sql("SELECT article_id, warehouse_id, expected_on, quantity::DOUBLE AS quantity "
                       "FROM inventory.open_purchase_orders").pl()  # fmt: skip
    weekly = conn.sql(
        f"SELECT article_id, warehouse_id, list(quantity ORDER BY week) AS q FROM {FORECAST} GROUP BY ALL"
    ).pl()
    forecast = {(a, w): np.asarray(q, dtype=float) for a, w, q in weekly.iter_rows()}
    series = {
        (r["article_id"], r["warehouse_id"]): r for r in conn.sql(f"SELECT * FROM {SERIES}").pl().iter_rows(named=True)
    }
    weeks = scalar(conn, f"SELECT max(history_weeks) FROM {SERIES}") or history_weeks(conn, as_of)
    plan = build_plan(inputs, open_po, forecast, series, config, as_of, int(weeks))
    with transaction(conn):
        _replace(conn, PLAN, plan)
    by_status = dict(plan.group_by("status").len().sort("status").iter_rows())
    proposals = plan.filter(pl.col("status") == ORDER).group_by("tenant_id").len().sort("tenant_id")
    return PlanSummary(plan.height, by_status, dict(proposals.iter_rows()), as_of)


def steps_needed(
    conn: duckdb.DuckDBPyConnection, models, config: ReorderConfig | None = None
) -> dict[PythonStep, Callable[[], object]]:
    """The purchasing steps that some of `models` read from (directly or through the other step),
    ready to run with `config` (the defaults when None): for runs outside Dagster."""
    config = config or ReorderConfig()
    runners = {DEMAND_FORECAST: lambda: run_forecast(conn, config), REORDER_PLAN: lambda: run_plan(conn, config)}
    reads = {r for m in models for r in m.upstream}
    needed: set[PythonStep] = set()
    while True:
        more = {s for s in runners if s not in needed and reads & set(s.writes)}
        if not more:
            return {s: runners[s] for s in runners if s in needed}
        needed |= more
        reads |= {r for s in more for r in s.reads}
