"""The demand forecast: yearly seasonality found on a synthetic series with a known peak, the
backtest windows (selection before the holdout, never overlapping it), the model chosen by error,
and series with one sale or none at all.

Bad inputs tried: negative demand, zero weeks of history; both raise a clear error."""

import numpy as np
import polars as pl
import pytest

from neuroerp.inventory.config import ReorderConfig
from neuroerp.inventory.forecast import (
    CROSTON_SBA,
    SEASONAL_NAIVE,
    TOP_DOWN,
    _wide,
    backtest_origins,
    forecast_demand,
    wape,
    weekly_history,
)

WEEKS = 104
PEAK = range(10, 15)  # weeks 10..14 of each year sell five times as much


def rows(series: dict[tuple[str, str], np.ndarray]) -> pl.DataFrame:
    """Sparse rows as inventory.demand_weekly holds them (weeks_back 0 = the latest week)."""
    out = []
    for (category, article), y in series.items():
        for t, q in enumerate(y):
            if q:
                out.append(("t1", category, article, "w1", len(y) - 1 - t, float(q)))
    return pl.DataFrame(
        out, schema=["tenant_id", "category", "article_id", "warehouse_id", "weeks_back", "quantity"], orient="row"
    )


def seasonal_series(rng: np.random.Generator, n: int) -> dict:
    season = np.ones(WEEKS)
    for year in (0, 52):
        season[[year + w for w in PEAK]] = 5.0
    return {("fertilizer", f"a{i}"): rng.poisson(2.0 * season * rng.uniform(0.5, 1.5)) for i in range(n)}


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(3)
    series = seasonal_series(rng, 30)
    series |= {("other", f"b{i}"): rng.poisson(0.3, WEEKS) for i in range(30)}  # flat, intermittent
    series[("other", "single")] = np.zeros(WEEKS)
    series[("other", "single")][60] = 4.0  # one sale, 44 weeks ago
    history = weekly_history(rows(series), WEEKS)
    return history, forecast_demand(history, ReorderConfig(), horizon_weeks=52)


def test_the_known_peak_is_forecast_in_its_weeks(synthetic):
    history, result = synthetic
    choice = next(c for c in result.choices if c.category == "fertilizer")
    assert choice.model in (TOP_DOWN, SEASONAL_NAIVE)
    assert not choice.worse_than_seasonal_naive
    rows_ = (history.keys["category"] == "fertilizer").to_numpy()
    total = result.weekly[rows_].sum(axis=0)
    # history week 104 is the last; forecast week k is history week 104 + k, i.e. week (104 + k) mod 52
    peak_weeks = [k for k in range(1, 53) if (WEEKS - 1 + k) % 52 in PEAK]
    assert set(np.argsort(total)[-5:] + 1) == set(peak_weeks)
    assert total[np.array(peak_weeks) - 1].mean() > 3 * np.delete(total, np.array(peak_weeks) - 1).mean()


def test_each_category_gets_the_model_of_lowest_selection_error(synthetic):
    _, result = synthetic
    for choice in result.choices:
        scored = {m: v for m, v in choice.selection_wape.items() if v is not None}
        assert choice.model == min(scored, key=scored.get)
        assert set(choice.holdout_wape) == {TOP_DOWN, CROSTON_SBA, SEASONAL_NAIVE}
    flat = next(c for c in result.choices if c.category == "other")
    assert flat.model != SEASONAL_NAIVE  # last year's noise is the worst guess for flat, sparse demand


def test_one_sale_and_the_error_sigma(synthetic):
    history, result = synthetic
    i = history.keys["article_id"].to_list().index("single")
    assert result.sales_weeks[i] == 1
    assert np.isfinite(result.weekly[i]).all() and (result.weekly[i] >= 0).all()
    assert result.sigma_weekly[i] > 0  # its one sale fell into backtest windows
    assert (result.weekly >= 0).all()


def test_backtest_windows_never_let_the_holdout_choose():
    config = ReorderConfig()
    origins = backtest_origins(104, config)
    assert origins.tolist() == list(range(56, 97, 4))  # 8-week windows, 4 weeks apart, a year and a month first
    assert backtest_origins(63, config).size == 0  # 56 weeks of training + 8 ahead do not fit in 63
    assert backtest_origins(64, config).tolist() == [56]
    history = weekly_history(rows(seasonal_series(np.random.default_rng(1), 3)), WEEKS)
    from neuroerp.inventory.forecast import run_backtest

    bt = run_backtest(history, config)
    assert bt.origins[bt.selection].tolist() == [56, 60, 64, 68, 72, 76, 80]  # windows end by week 88
    assert bt.origins[bt.holdout].tolist() == [88, 92, 96]  # the last 16 weeks
    assert not (bt.selection & bt.holdout).any()
    assert np.array_equal(bt.actuals[:, -1], history.y[:, 96:104])


def test_short_history_uses_the_default_model_without_a_backtest():
    history = weekly_history(rows({("seed", "x"): np.array([1.0, 0, 2, 0, 1] * 8)}), 40)
    result = forecast_demand(history, ReorderConfig(), horizon_weeks=10)
    assert [c.model for c in result.choices] == [CROSTON_SBA] and result.choices[0].holdout_windows == 0
    assert result.weekly.shape == (1, 10) and result.weekly[0, 0] > 0


def test_wape_and_bad_inputs():
    assert wape(np.array([1.0, -1.0]), np.array([2.0, 2.0])) == 0.5
    assert wape(np.array([1.0]), np.array([0.0])) is None
    bad = rows({("seed", "x"): np.array([1.0, 2.0])}).with_columns(quantity=pl.lit(-1.0))
    with pytest.raises(ValueError, match="negative"):
        weekly_history(bad, 2)
    with pytest.raises(ValueError, match="positive"):
        weekly_history(bad, 0)


def test_no_sales_at_all_forecasts_nothing_without_failing():
    empty = pl.DataFrame(
        schema={"tenant_id": pl.String, "category": pl.String, "article_id": pl.String, "warehouse_id": pl.String,
                "weeks_back": pl.Int64, "quantity": pl.Float64}
    )  # fmt: skip
    result = forecast_demand(weekly_history(empty, 104), ReorderConfig(), horizon_weeks=26)
    assert result.weekly.shape == (0, 26) and result.choices == []


def test_backtest_output_is_read_per_series_window_and_week_even_where_windows_overlap():
    """statsforecast's cross-validation rows, shuffled: windows a week apart over three weeks
    overlap, so the weeks alone do not say which window a row belongs to; the cutoff does."""
    rows = [
        (uid, cutoff, cutoff + step, float(100 * i + 10 * cutoff + step))
        for i, uid in enumerate(("a", "b"))
        for cutoff in (1, 2)
        for step in (1, 2, 3)
    ]
    frame = pl.DataFrame(rows, schema=["unique_id", "cutoff", "ds", "M"], orient="row").sample(fraction=1.0, seed=3,
                                                                                                  shuffle=True)  # fmt: skip
    wide = _wide(frame, "M", n=2, windows=2, h=3)
    assert wide.tolist() == [[[11, 12, 13], [21, 22, 23]], [[111, 112, 113], [121, 122, 123]]]


def test_each_implausible_setting_is_refused_with_its_reason():
    with pytest.raises(ValueError) as refused:
        ReorderConfig(min_train_weeks=52)
    assert str(refused.value) == "min_train_weeks must be at least 53 (a season and one week) (got 52)"
