"""The Python steps of purchasing: the demand forecast (with the backtest check), the reorder plan
and the Excel export. What a run plans with (service level, review period, ...) is its run
configuration, recorded with the run."""

import datetime as dt
from pathlib import Path

import dagster as dg
from pydantic import Field

from assets.freshness import DAILY
from assets.resources import Warehouse
from assets.run_order import run_order_tags
from assets.sqlmodels.factory import relation_key
from neuroerp.inventory.config import DEFAULT_KG_PER_UNIT, ReorderConfig
from neuroerp.inventory.export import export_proposals
from neuroerp.inventory.forecast import DemandForecast
from neuroerp.inventory.plan import DEMAND_FORECAST, REORDER_PLAN, run_forecast, run_plan
from neuroerp.project import PYTHON_STEPS
from neuroerp.sqlmodels import PythonStep

OWNERS = ["team:purchasing"]
BACKTEST_CHECK = "backtest_error_by_category"
DEFAULTS = ReorderConfig()


def _asset_of(relation: str) -> dg.AssetKey:
    """The asset that writes a relation: a Python step's first relation stands for all it writes."""
    for step in PYTHON_STEPS:
        if relation in step.writes:
            return relation_key(step.relation)
    return relation_key(relation)


def step_asset(step: PythonStep) -> dict:
    """The asset decorator's arguments that follow from a step's declaration."""
    return {
        "key": relation_key(step.relation),
        "deps": list(dict.fromkeys(_asset_of(r) for r in step.reads)),
        "group_name": "inventory",
        "kinds": {"python", "duckdb"},
        "owners": OWNERS,
        "freshness_policy": DAILY,
        "pool": "duckdb_warehouse",
        "op_tags": run_order_tags(step.relation),
    }


class ForecastConfig(dg.Config):
    """How far the forecast reaches and how the backtest is cut (weeks)."""

    horizon_weeks: int = Field(DEFAULTS.horizon_weeks, description="Weeks forecast ahead (at least lead + review).")
    backtest_horizon_weeks: int = Field(DEFAULTS.backtest_horizon_weeks, description="Weeks each window forecasts.")
    backtest_step_weeks: int = Field(DEFAULTS.backtest_step_weeks, description="Weeks between forecast origins.")
    min_train_weeks: int = Field(DEFAULTS.min_train_weeks, description="History before the first origin.")
    holdout_weeks: int = Field(DEFAULTS.holdout_weeks, description="Latest weeks only reported, never used to choose.")

    def reorder_config(self) -> ReorderConfig:
        return ReorderConfig(**self.model_dump())


class PlanConfig(dg.Config):
    """What purchasing plans with."""

    service_level: float = Field(DEFAULTS.service_level, description="Probability of no stock-out in the lead time.")
    review_period_days: int = Field(DEFAULTS.review_period_days, description="Days between two purchasing reviews.")
    default_lead_time_days: int = Field(DEFAULTS.default_lead_time_days, description="For articles without one.")
    default_lead_time_cv: float = Field(
        DEFAULTS.default_lead_time_cv, description="sigma_L / L for suppliers with too few receipts to measure."
    )
    peak_factor: float = Field(DEFAULTS.peak_factor, description="A week this far above the year's mean is a peak.")
    kg_per_unit: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_KG_PER_UNIT),
        description="Kilograms per unit that count against the warehouse capacity (0: not counted).",
    )

    def reorder_config(self) -> ReorderConfig:
        return ReorderConfig(**self.model_dump())


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def backtest_check(result: DemandForecast) -> dg.AssetCheckResult:
    """WAPE of the chosen model per tenant and category on the holdout, next to seasonal naive."""
    worse = [c for c in result.choices if c.worse_than_seasonal_naive]
    lines = [
        "| tenant | category | model | series | WAPE holdout | seasonal naive | ratio |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for c in result.choices:
        ours, naive = c.chosen_holdout_wape, c.seasonal_naive_holdout_wape
        ratio = f"{ours / naive:.2f}" if ours is not None and naive else "–"
        flag = " ⚠" if c.worse_than_seasonal_naive else ""
        lines.append(f"| {c.tenant_id} | {c.category} | {c.model}{flag} | {c.series} | {_pct(ours)} | {_pct(naive)} | {ratio} |")  # fmt: skip
    metrics = {
        f"{c.tenant_id}/{c.category}": {
            "model": c.model,
            "wape_holdout": c.chosen_holdout_wape,
            "wape_seasonal_naive": c.seasonal_naive_holdout_wape,
            "wape_selection": c.selection_wape,
            "holdout_windows": c.holdout_windows,
        }
        for c in result.choices
    }
    return dg.AssetCheckResult(
        check_name=BACKTEST_CHECK,
        passed=not worse,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(worse)} categories worse than seasonal naive: "
            + ", ".join(f"{c.tenant_id}/{c.category}" for c in worse)
            if worse
            else "every category at least as good as seasonal naive"
        ),
        metadata={
            "by_category": dg.MetadataValue.md("\n".join(lines)),
            "wape": dg.MetadataValue.json(metrics),
            "categories_worse_than_seasonal_naive": len(worse),
        },
    )


@dg.asset(
    **step_asset(DEMAND_FORECAST),
    check_specs=[
        dg.AssetCheckSpec(
            BACKTEST_CHECK,
            asset=relation_key(DEMAND_FORECAST.relation),
            description=(
                "Backtest error (WAPE) of the chosen model per tenant and category on the holdout weeks; "
                "warns when a category forecasts worse than seasonal naive."
            ),
        )
    ],
)
def demand_forecast(
    context: dg.AssetExecutionContext, config: ForecastConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    """Weekly demand forecast per article and warehouse with yearly seasonality (statsforecast):
    the model per tenant and category chosen by a rolling-origin backtest (seasonal naive, Croston
    SBA, the category's seasonal profile split by article share), its errors per series for the
    safety stock, and the backtest itself (inventory.forecast_backtest)."""
    reorder = config.reorder_config()
    with warehouse.connect() as conn:
        result = run_forecast(conn, reorder, None)
    models = {}
    for c in result.choices:
        models[c.model] = models.get(c.model, 0) + 1
    context.log.info(f"{result.keys.height} series, {result.history_weeks} weeks of history; models {models}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(result.weekly.size),
            "series": result.keys.height,
            "history_weeks": result.history_weeks,
            "horizon_weeks": int(result.weekly.shape[1]) if result.weekly.ndim == 2 else 0,
            "models_chosen": dg.MetadataValue.json(models),
            "run_config": dg.MetadataValue.json(reorder.as_record()),
        },
        check_results=[backtest_check(result)],
    )


@dg.asset(**step_asset(REORDER_PLAN))
def reorder_plan(context: dg.AssetExecutionContext, config: PlanConfig, warehouse: Warehouse) -> dg.MaterializeResult:
    """Every article and warehouse with its decision: order (quantity, order-by date), stock
    sufficient, blocked by the PSM authorisation and sell-out period, no room in the warehouse,
    no history (plan by hand), or excluded (inactive, deleted); safety stock, reorder point,
    order-up-to level and the German reason. inventory.reorder_proposals selects the orders."""
    reorder = config.reorder_config()
    with warehouse.connect() as conn:
        summary = run_plan(conn, reorder)
    context.log.info(f"{summary.rows} articles and warehouses planned for {summary.as_of}: {summary.by_status}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": summary.rows,
            "as_of": str(summary.as_of),
            "by_status": dg.MetadataValue.json(summary.by_status),
            "proposals_by_tenant": dg.MetadataValue.json(summary.proposals_by_tenant),
            "run_config": dg.MetadataValue.json(reorder.as_record()),
        }
    )


@dg.asset(
    key=["inventory", "purchasing_export"],
    deps=[relation_key("inventory.reorder_proposals"), relation_key(REORDER_PLAN.relation)],
    group_name="inventory",
    kinds={"python", "excel"},
    owners=OWNERS,
    freshness_policy=DAILY,
    pool="duckdb_warehouse",
    op_tags=run_order_tags("inventory.purchasing_export"),
)
def purchasing_export(warehouse: Warehouse) -> dg.MaterializeResult:
    """The Bestellvorschlag as an Excel workbook per tenant for the buyers (German):
    NEUROERP_HOME/reports/purchasing/<tenant>/<UTC timestamp>/bestellvorschlag.xlsx, never
    overwritten, listed with its SHA-256 in reports/manifest.jsonl."""
    with warehouse.connect(read_only=True) as conn:
        files = export_proposals(conn, Path(warehouse.home), now=dt.datetime.now(dt.UTC))
    return dg.MaterializeResult(
        metadata={
            "files": dg.MetadataValue.json({f.tenant_id: str(f.path) for f in files}),
            "proposals": dg.MetadataValue.json({f.tenant_id: f.proposals for f in files}),
            "notes": dg.MetadataValue.json({f.tenant_id: f.notes for f in files}),
            "sha256": dg.MetadataValue.json({f.tenant_id: f.sha256 for f in files}),
        }
    )
