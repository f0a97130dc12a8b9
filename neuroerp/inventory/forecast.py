"""Weekly demand forecasts per article and warehouse, with yearly seasonality, the model per
tenant and category chosen by a rolling-origin backtest.

Candidates (all from statsforecast):

- `seasonal_naive`: the same week a year (52 weeks) earlier, per article and warehouse. The
  benchmark every other model must beat.
- `croston_sba`: Croston's method with the Syntetos-Boylan correction, per article and warehouse:
  a level for intermittent demand, no season.
- `top_down_seasonal`: the seasonal naive forecast of the tenant's whole category (dense, so its
  yearly shape is reliable), split to each article and warehouse by its share of the category
  over the last 52 weeks. Sparse articles inherit the season of their category instead of the
  noise of their own single sales last year.

The backtest forecasts `backtest_horizon_weeks` ahead from origins `backtest_step_weeks` apart,
each with at least `min_train_weeks` of history. Origins whose windows end before the last
`holdout_weeks` choose the model (lowest WAPE per tenant and category); windows inside the holdout
only report how the chosen model does on weeks the choice never saw, next to seasonal naive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from neuroerp.inventory.config import ReorderConfig

SEASON_WEEKS = 52
SEASONAL_NAIVE = "seasonal_naive"
CROSTON_SBA = "croston_sba"
TOP_DOWN = "top_down_seasonal"
MODELS = (TOP_DOWN, CROSTON_SBA, SEASONAL_NAIVE)  # order breaks ties in the backtest
KEY = ("tenant_id", "category", "article_id", "warehouse_id")


@dataclass(frozen=True)
class WeeklyHistory:
    """Demand per week: row i of `y` belongs to row i of `keys`; the last column is the week that
    ends on the as-of day, the first the oldest full week."""

    keys: pl.DataFrame
    y: np.ndarray

    @property
    def weeks(self) -> int:
        return self.y.shape[1]

    @property
    def groups(self) -> np.ndarray:
        """Index of each row's tenant and category in `group_names`."""
        return np.unique(self.group_labels, return_inverse=True)[1]

    @property
    def group_labels(self) -> np.ndarray:
        return (self.keys["tenant_id"] + "\x1f" + self.keys["category"]).to_numpy()


def weekly_history(rows: pl.DataFrame, weeks: int) -> WeeklyHistory:
    """Dense history from sparse rows (KEY columns, `weeks_back` with 0 = the week ending on the
    as-of day, `quantity`). Rows older than `weeks` are left out; negative quantities are errors."""
    if weeks < 1:
        raise ValueError(f"weeks must be positive, got {weeks}")
    if rows.height and rows["quantity"].min() < 0:
        raise ValueError("weekly demand must not be negative")
    rows = rows.filter(pl.col("weeks_back").is_between(0, weeks - 1))
    keys = rows.select(KEY).unique().sort(KEY)
    indexed = rows.join(keys.with_row_index("_i"), on=list(KEY))
    y = np.zeros((keys.height, weeks))
    np.add.at(
        y,
        (indexed["_i"].to_numpy(), weeks - 1 - indexed["weeks_back"].to_numpy()),
        indexed["quantity"].cast(pl.Float64).to_numpy(),
    )
    return WeeklyHistory(keys, y)


# ----------------------------------------------------------------------------- the models


def _long(y: np.ndarray) -> pl.DataFrame:
    n, t = y.shape
    return pl.DataFrame(
        {"unique_id": np.repeat(np.arange(n), t), "ds": np.tile(np.arange(t), n), "y": y.ravel()},
        schema={"unique_id": pl.Int64, "ds": pl.Int64, "y": pl.Float64},
    )


def _statsforecast(models: list):
    from statsforecast import StatsForecast  # imported here: it takes seconds

    return StatsForecast(models=models, freq=1, n_jobs=1)


def _pair_models() -> list:
    from statsforecast.models import CrostonSBA, SeasonalNaive

    return [SeasonalNaive(season_length=SEASON_WEEKS, alias=SEASONAL_NAIVE), CrostonSBA(alias=CROSTON_SBA)]


def _aggregate_model() -> list:
    from statsforecast.models import SeasonalNaive

    return [SeasonalNaive(season_length=SEASON_WEEKS, alias=TOP_DOWN)]


def _wide(frame: pl.DataFrame, column: str, n: int, windows: int, h: int) -> np.ndarray:
    """(n, windows, h) from statsforecast's long output, ordered by id, cutoff, ds."""
    ordered = frame.sort("unique_id", "cutoff", "ds") if "cutoff" in frame.columns else frame.sort("unique_id", "ds")
    return ordered[column].to_numpy().astype(float).reshape(n, windows, h)


def aggregate(y: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    out = np.zeros((n_groups, y.shape[1]))
    np.add.at(out, groups, y)
    return out


def shares(y: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Each row's share of its group over the last season of `y` (0 where the group sold nothing)."""
    window = y[:, -SEASON_WEEKS:]
    total = aggregate(window, groups, n_groups).sum(axis=1)
    own = window.sum(axis=1)
    return np.divide(own, total[groups], out=np.zeros_like(own), where=total[groups] > 0)


def forecast_models(y: np.ndarray, groups: np.ndarray, h: int) -> dict[str, np.ndarray]:
    """Every candidate's forecast (n, h) from the whole history."""
    n = y.shape[0]
    n_groups = int(groups.max()) + 1 if n else 0
    out: dict[str, np.ndarray] = {}
    if n == 0:
        return {m: np.zeros((0, h)) for m in MODELS}
    if y.shape[1] >= SEASON_WEEKS:
        pair = _statsforecast(_pair_models()).forecast(df=_long(y), h=h)
        out[SEASONAL_NAIVE] = _wide(pair, SEASONAL_NAIVE, n, 1, h)[:, 0]
        out[CROSTON_SBA] = _wide(pair, CROSTON_SBA, n, 1, h)[:, 0]
        agg = _statsforecast(_aggregate_model()).forecast(df=_long(aggregate(y, groups, n_groups)), h=h)
        out[TOP_DOWN] = shares(y, groups, n_groups)[:, None] * _wide(agg, TOP_DOWN, n_groups, 1, h)[:, 0][groups]
    else:  # less than a season: only the level model can say anything
        pair = _statsforecast(_pair_models()[1:]).forecast(df=_long(y), h=h)
        out[CROSTON_SBA] = _wide(pair, CROSTON_SBA, n, 1, h)[:, 0]
    return {m: np.clip(f, 0, None) for m, f in out.items()}


# ---------------------------------------------------------------------------- the backtest


@dataclass(frozen=True)
class Backtest:
    origins: np.ndarray  # first forecast week of each window (column index of the history)
    selection: np.ndarray  # bool per window: used to choose the model
    holdout: np.ndarray  # bool per window: reported only
    forecasts: dict[str, np.ndarray]  # model -> (n, windows, h)
    actuals: np.ndarray  # (n, windows, h)


def backtest_origins(weeks: int, config: ReorderConfig) -> np.ndarray:
    h, step = config.backtest_horizon_weeks, config.backtest_step_weeks
    last = weeks - h
    if last < config.min_train_weeks:
        return np.zeros(0, dtype=int)
    return np.arange(last, config.min_train_weeks - 1, -step)[::-1]


def run_backtest(history: WeeklyHistory, config: ReorderConfig) -> Backtest | None:
    """Rolling-origin forecasts of every candidate; None where the history is too short."""
    y, h = history.y, config.backtest_horizon_weeks
    origins = backtest_origins(history.weeks, config)
    n, windows = y.shape[0], len(origins)
    if windows == 0 or n == 0:
        return None
    groups = history.groups
    n_groups = int(groups.max()) + 1
    step = config.backtest_step_weeks
    cv = _statsforecast(_pair_models()).cross_validation(df=_long(y), h=h, step_size=step, n_windows=windows)
    forecasts = {m: _wide(cv, m, n, windows, h) for m in (SEASONAL_NAIVE, CROSTON_SBA)}
    agg_cv = _statsforecast(_aggregate_model()).cross_validation(
        df=_long(aggregate(y, groups, n_groups)), h=h, step_size=step, n_windows=windows
    )
    agg = _wide(agg_cv, TOP_DOWN, n_groups, windows, h)
    top_down = np.empty((n, windows, h))
    for w, origin in enumerate(origins):
        top_down[:, w] = shares(y[:, :origin], groups, n_groups)[:, None] * agg[groups, w]
    forecasts[TOP_DOWN] = top_down
    actuals = np.stack([y[:, o : o + h] for o in origins], axis=1)
    holdout_start = history.weeks - config.holdout_weeks
    holdout = origins >= holdout_start
    selection = origins + h <= holdout_start
    if not selection.any():  # too short for a holdout: choose on everything, report the same
        selection = np.ones(windows, dtype=bool)
    return Backtest(origins, selection, holdout, {m: np.clip(f, 0, None) for m, f in forecasts.items()}, actuals)


def wape(errors: np.ndarray, actuals: np.ndarray) -> float | None:
    """Weighted absolute percentage error: sum |error| / sum actual; None without demand."""
    total = float(np.abs(actuals).sum())
    return float(np.abs(errors).sum()) / total if total > 0 else None


@dataclass(frozen=True)
class Choice:
    """What the backtest found for one tenant and category."""

    tenant_id: str
    category: str
    series: int
    model: str
    selection_wape: dict[str, float | None]
    holdout_wape: dict[str, float | None]
    holdout_windows: int

    @property
    def chosen_holdout_wape(self) -> float | None:
        return self.holdout_wape.get(self.model)

    @property
    def seasonal_naive_holdout_wape(self) -> float | None:
        return self.holdout_wape.get(SEASONAL_NAIVE)

    @property
    def worse_than_seasonal_naive(self) -> bool:
        ours, naive = self.chosen_holdout_wape, self.seasonal_naive_holdout_wape
        return ours is not None and naive is not None and ours > naive


def _score(backtest: Backtest, model: str, rows: np.ndarray, windows: np.ndarray) -> float | None:
    actual = backtest.actuals[rows][:, windows]
    return wape(backtest.forecasts[model][rows][:, windows] - actual, actual)


def default_model(weeks: int) -> str:
    return TOP_DOWN if weeks >= SEASON_WEEKS else CROSTON_SBA


def choose_models(history: WeeklyHistory, backtest: Backtest | None) -> list[Choice]:
    """The model of lowest selection WAPE per tenant and category (the default where no window
    had demand, or there was no backtest)."""
    labels = history.group_labels
    choices = []
    for label in np.unique(labels):
        rows = labels == label
        tenant, category = str(label).split("\x1f")
        if backtest is None:
            choices.append(Choice(tenant, category, int(rows.sum()), default_model(history.weeks), {}, {}, 0))
            continue
        selection = {m: _score(backtest, m, rows, backtest.selection) for m in MODELS}
        holdout = {m: _score(backtest, m, rows, backtest.holdout) for m in MODELS} if backtest.holdout.any() else {}
        scored = [(v, MODELS.index(m), m) for m, v in selection.items() if v is not None]
        model = min(scored)[2] if scored else default_model(history.weeks)
        choices.append(
            Choice(tenant, category, int(rows.sum()), model, selection, holdout, int(backtest.holdout.sum()))
        )
    return choices


def error_sigma(history: WeeklyHistory, backtest: Backtest | None, chosen: np.ndarray) -> np.ndarray:
    """Per row: the root mean squared weekly error of its chosen model over every backtest window
    (0 without a backtest: the safety stock then rests on the lead-time variability alone)."""
    n = history.y.shape[0]
    if backtest is None:
        return np.zeros(n)
    sigma = np.zeros(n)
    for model in MODELS:
        rows = chosen == model
        if rows.any():
            err = backtest.forecasts[model][rows] - backtest.actuals[rows]
            sigma[rows] = np.sqrt((err**2).mean(axis=(1, 2)))
    return sigma


@dataclass(frozen=True)
class DemandForecast:
    keys: pl.DataFrame  # KEY columns, one row per article and warehouse with history
    weekly: np.ndarray  # (n, horizon_weeks) forecast of the chosen model
    model: np.ndarray  # chosen model per row
    sigma_weekly: np.ndarray  # RMSE of weekly errors of that model in the backtest
    sales_weeks: np.ndarray  # weeks with any demand in the history
    mean_weekly: np.ndarray  # mean weekly demand over the last season (or the history)
    choices: list[Choice]
    history_weeks: int


def forecast_demand(history: WeeklyHistory, config: ReorderConfig, horizon_weeks: int) -> DemandForecast:
    """Backtest, choose, and forecast `horizon_weeks` with each tenant's and category's model."""
    backtest = run_backtest(history, config)
    choices = choose_models(history, backtest)
    by_group = {(c.tenant_id, c.category): c.model for c in choices}
    chosen = np.array(
        [by_group[(t, c)] for t, c in history.keys.select("tenant_id", "category").iter_rows()], dtype=object
    )
    candidates = forecast_models(history.y, history.groups, horizon_weeks) if history.y.shape[0] else {}
    weekly = np.zeros((history.y.shape[0], horizon_weeks))
    for model in MODELS:
        rows = chosen == model
        if rows.any():
            weekly[rows] = candidates[model][rows]
    recent = history.y[:, -SEASON_WEEKS:]
    return DemandForecast(
        keys=history.keys,
        weekly=weekly,
        model=chosen,
        sigma_weekly=error_sigma(history, backtest, chosen),
        sales_weeks=(history.y > 0).sum(axis=1),
        mean_weekly=recent.mean(axis=1) if recent.shape[1] else np.zeros(history.y.shape[0]),
        choices=choices,
        history_weeks=history.weeks,
    )
