"""The reorder policy by hand: safety stock, reorder point, order-up-to level, order-by date, pack
and minimum-order rounding, PSM gating at its edges, capacity. Each number below is worked out in
the comment next to it, so a changed boundary (>= for >, a dropped step) fails here.

Bad inputs tried: negative forecast, forecast shorter than lead + review, non-positive pack size,
negative deviations; each raises a clear error."""

import datetime as dt
import math

import numpy as np
import pytest

from neuroerp.inventory.config import ConfigError, ReorderConfig
from neuroerp.inventory.policy import (
    CAPACITY,
    ORDER,
    PSM_BLOCKED,
    SUFFICIENT,
    CapacityItem,
    PairInput,
    allocate_capacity,
    limit_quantity,
    order_quantity,
    plan_pair,
    safety_stock,
)

AS_OF = dt.date(2026, 2, 1)
Z95 = 1.6448536269514722


def pair(**overrides) -> PairInput:
    """10 a day, L = 14, R = 7, sigma_d = 3, sigma_L = 2, packs of 25, minimum order 100;
    200 on hand, 20 reserved, 50 on order by day 10 (in time) and 40 by day 20 (not in time)."""
    values = dict(
        as_of=AS_OF, daily_forecast=np.full(60, 10.0), sigma_daily=3.0, lead_time_days=14, sigma_lead_days=2.0,
        review_period_days=7, z=Z95, pack_size=25.0, min_order_qty=100.0, on_hand=200.0, reserved=20.0,
        open_po=((AS_OF + dt.timedelta(days=10), 50.0), (AS_OF + dt.timedelta(days=20), 40.0)),
    )  # fmt: skip
    return PairInput(**{**values, **overrides})


def test_hand_computed_proposal():
    plan = plan_pair(pair())
    ss = Z95 * math.sqrt(14 * 3.0**2 + 10.0**2 * 2.0**2)  # 1.645 * sqrt(126 + 400) = 37.72
    assert plan.safety_stock == pytest.approx(ss) and ss == pytest.approx(37.7236, abs=1e-3)
    assert plan.demand_lead_time == 140 and plan.demand_protection == 210  # 14 and 21 days of 10
    assert plan.reorder_point == pytest.approx(140 + ss)
    assert plan.order_up_to == pytest.approx(210 + ss)  # 247.72
    assert plan.open_po_in_time == 50 and plan.available == 230  # 200 - 20 + 50; the 40 come too late
    assert plan.status == ORDER
    assert plan.required_qty == pytest.approx(210 + ss - 230)  # 17.72
    assert plan.proposed_qty == 100  # one pack (25) covers it, the minimum order is 100
    # 230 - 10 t < 37.72 first at t = 20; ordered 14 days earlier: day 6
    assert plan.below_safety_from == AS_OF + dt.timedelta(days=20)
    assert plan.order_by == AS_OF + dt.timedelta(days=6)
    assert plan.stock_lasts_until == AS_OF + dt.timedelta(days=23)  # 230 - 10 * 24 < 0
    assert plan.expected_arrival == AS_OF + dt.timedelta(days=14)


def test_open_purchase_order_counts_only_when_it_arrives_within_the_lead_time():
    on_time = plan_pair(pair(open_po=((AS_OF + dt.timedelta(days=14), 50.0),)))
    late = plan_pair(pair(open_po=((AS_OF + dt.timedelta(days=15), 50.0),)))
    overdue = plan_pair(pair(open_po=((AS_OF - dt.timedelta(days=3), 50.0),)))  # still coming
    assert on_time.available == 230 and late.available == 180 and overdue.available == 230


def test_no_proposal_where_stock_suffices_and_the_boundary_is_the_order_up_to_level():
    level = plan_pair(pair()).order_up_to
    exactly = plan_pair(pair(on_hand=level + 20 - 50, open_po=((AS_OF, 50.0),)))
    assert exactly.available == pytest.approx(level) and exactly.status == SUFFICIENT
    assert exactly.proposed_qty == 0 and exactly.expected_arrival is None
    below = plan_pair(pair(on_hand=level + 20 - 50 - 0.01, open_po=((AS_OF, 50.0),)))
    assert below.status == ORDER and below.proposed_qty == 100


def test_overdue_order_is_due_today():
    plan = plan_pair(pair(on_hand=40.0, open_po=()))  # 20 available: below the safety stock at once
    assert plan.status == ORDER and plan.order_by == AS_OF and "overdue" in plan.notes
    assert plan.proposed_qty == 250  # 247.72 - 20 = 227.72 -> 10 packs of 25


@pytest.mark.parametrize(
    ("shortfall", "pack", "minimum", "expected"),
    [
        (17.72, 25, 0, 25),  # up to a whole pack
        (50.0, 25, 0, 50),  # an exact multiple stays
        (50.0001, 25, 0, 75),
        (1.0, 0.6, 0, 1.2),  # BigBags of 0.6 t
        (0.1, 0.6, 1.0, 1.2),  # a minimum of 1 t is two BigBags
        (130, 25, 100, 150),  # above the minimum: packs decide
        (0, 25, 100, 0),  # nothing short: nothing to order
    ],
)
def test_pack_and_minimum_order_rounding(shortfall, pack, minimum, expected):
    assert order_quantity(shortfall, pack, minimum) == pytest.approx(expected)


def test_limits_round_down_and_fall_to_zero_below_the_minimum():
    assert limit_quantity(250, 160, 25, 100) == 150
    assert limit_quantity(250, 99, 25, 100) == 0  # 75 would be below the minimum order
    assert limit_quantity(100, 160, 25, 100) == 100  # within the limit: unchanged


def test_safety_stock_formula_and_bad_inputs():
    assert safety_stock(2.0, 9, 1.0, 5.0, 0.0) == pytest.approx(6.0)  # 2 * sqrt(9)
    assert safety_stock(2.0, 0, 1.0, 5.0, 1.0) == pytest.approx(10.0)  # 2 * sqrt(25)
    assert safety_stock(Z95, 14, 0.0, 0.0, 5.0) == 0
    with pytest.raises(ValueError):
        safety_stock(2.0, 9, -1.0, 5.0, 0.0)
    with pytest.raises(ValueError):
        plan_pair(pair(daily_forecast=np.full(20, 10.0)))  # shorter than 14 + 7 days
    with pytest.raises(ValueError):
        plan_pair(pair(daily_forecast=np.concatenate([np.full(59, 10.0), [-1.0]])))
    with pytest.raises(ValueError):
        order_quantity(10, 0, 0)


def test_service_level_is_validated_and_gives_the_normal_quantile():
    assert ReorderConfig(service_level=0.95).z == pytest.approx(Z95)
    assert ReorderConfig(service_level=0.5).z == pytest.approx(0.0, abs=1e-12)
    for bad in ({"service_level": 1.0}, {"service_level": 0.3}, {"review_period_days": 0}, {"holdout_weeks": 4}):
        with pytest.raises(ConfigError):
            ReorderConfig(**bad)


# ---------------------------------------------------------------------------- PSM gating


def psm(sellable_days: int | None, **overrides) -> PairInput:
    """No stock, so the order-up-to level (247.72) is short by 247.72 -> 250 ordered without limits."""
    until = AS_OF + dt.timedelta(days=sellable_days) if sellable_days is not None else None
    return pair(**{"on_hand": 0.0, "reserved": 0.0, "open_po": (), "psm_sellable_until": until, **overrides})


def test_psm_arriving_after_the_sell_out_end_is_not_ordered():
    late = plan_pair(psm(13))  # arrives on day 14, sales must stop on day 13
    assert late.status == PSM_BLOCKED and late.proposed_qty == 0 and "psm_late" in late.notes
    on_the_day = plan_pair(psm(14))  # arrives the last day: nothing left to sell it in
    assert on_the_day.status == PSM_BLOCKED and "psm_late" not in on_the_day.notes


def test_psm_order_limited_to_the_expected_sell_through():
    # sellable until day 30: 300 sold by then, 140 of it before arrival (lost: no stock): 160 for the order
    plan = plan_pair(psm(30))
    assert plan.sellable_limit == pytest.approx(160)
    assert plan.status == ORDER and plan.proposed_qty == 150 and "psm_limited" in plan.notes
    # no safety stock beyond the sell-out end: with stock on hand the limit shrinks by it
    with_stock = plan_pair(psm(30, on_hand=100.0))  # 300 - max(100, 140) = 160 still
    assert with_stock.sellable_limit == pytest.approx(160)
    with_more = plan_pair(psm(30, on_hand=180.0))  # 300 - 180 = 120 -> 100 (4 packs, the minimum)
    assert with_more.proposed_qty == 100


def test_psm_below_the_minimum_order_or_covered_by_stock_is_not_ordered():
    small = plan_pair(psm(23))  # 230 - 140 = 90 < 100 minimum
    assert small.status == PSM_BLOCKED and "psm_min_order" in small.notes
    exact = plan_pair(psm(24))  # 240 - 140 = 100: exactly the minimum
    assert exact.status == ORDER and exact.proposed_qty == 100
    covered = plan_pair(psm(40, on_hand=400.0))  # 400 on hand covers the 400 sold by day 40
    assert covered.status == SUFFICIENT  # not even needed: nothing to gate
    covered = plan_pair(psm(20, on_hand=210.0))  # needed (210 < 247.72) but 200 is all that sells by day 20
    assert covered.status == PSM_BLOCKED and "psm_stock_covers" in covered.notes


def test_psm_far_from_its_end_orders_normally_and_unknown_authorisation_blocks():
    assert plan_pair(psm(400)).proposed_qty == 250
    unknown = plan_pair(psm(None, psm_authorization_unknown=True))
    assert unknown.status == PSM_BLOCKED and "psm_unknown" in unknown.notes


# ------------------------------------------------------------------------------- season


def test_season_peak_is_the_first_week_at_peak_factor_times_the_mean():
    weekly = [7.0] * 6 + [21.0] * 4 + [7.0] * 10  # a mean day of 1 -> a week of 7; peak weeks 7..10
    daily = np.repeat(np.array(weekly) / 7, 7)
    plan = plan_pair(pair(daily_forecast=daily, past_mean_daily=1.0, peak_factor=1.5))
    assert plan.season_peak_from == AS_OF + dt.timedelta(days=6 * 7 + 1)
    assert plan_pair(pair(daily_forecast=daily, past_mean_daily=2.0)).season_peak_from is not None  # 21 >= 21
    assert plan_pair(pair(daily_forecast=daily, past_mean_daily=2.01)).season_peak_from is None
    in_season = np.repeat(np.array([21.0] * 20) / 7, 7)  # already in the season: no "coming" peak
    assert plan_pair(pair(daily_forecast=in_season, past_mean_daily=1.0)).season_peak_from is None


# ----------------------------------------------------------------------------- capacity


def item(index, qty=0.0, available=0.0, tonnes=1.0, demand=0.0, days=30, priority=0, pack=1.0, minimum=0.0):
    return CapacityItem(
        index=index, tonnes_per_unit=tonnes, available=available, arrivals=(),
        cum_demand=np.arange(days + 1) * demand, proposed_qty=qty, arrival_day=5, pack_size=pack,
        min_order_qty=minimum, priority=(priority,),
    )  # fmt: skip


def test_capacity_admits_the_most_urgent_first_and_cuts_to_whole_packs():
    stock = [item(0, available=80.0)]
    first, second = item(1, qty=30.0, priority=1, pack=4.0), item(2, qty=10.0, priority=2, minimum=5.0)
    result = allocate_capacity(100.0, [*stock, first, second], [second, first])
    assert result[1] == (20.0, 20.0)  # 20 t free: 5 packs of 4 t
    assert result[2][0] == 0  # nothing left, below its minimum
    assert allocate_capacity(None, [*stock, first], [first])[1][0] == 30.0  # no capacity recorded
    uncounted = item(3, qty=30.0, tonnes=0.0)  # packed goods do not count
    assert allocate_capacity(100.0, [*stock, uncounted], [uncounted])[3][0] == 30.0


def test_capacity_counts_what_is_sold_before_the_goods_arrive():
    selling = [item(0, available=100.0, demand=4.0)]  # full today, 20 t sold by day 5
    proposal = item(1, qty=30.0)
    assert allocate_capacity(100.0, [*selling, proposal], [proposal])[1][0] == 20.0
    assert CAPACITY == "capacity_full"
