"""The reorder policy of one article in one warehouse, and the warehouse capacity over all of them.

Per article and warehouse, with the daily demand forecast f(1), f(2), ... after the as-of day,
lead time L and review period R (days), and D(t) = f(1) + ... + f(t):

- safety stock SS = z * sqrt(L * sigma_d^2 + d^2 * sigma_L^2), with z the service level's normal
  quantile, sigma_d the daily forecast error, d = D(L) / L the mean daily demand over the lead
  time and sigma_L the lead time's standard deviation in days;
- reorder point ROP = D(L) + SS: at or below it an order is due today;
- order-up-to level S = D(L + R) + SS: an order placed now must last until the order of the next
  review can arrive;
- available stock A = on hand - reserved + open purchase orders expected by the as-of day + L;
- an order is proposed when A < S, that is when the stock would fall below the safety stock
  before the next review's order could arrive; its order-by date is the last day on which an order
  still arrives before that (the day the projection A - D(t) first falls below SS, minus L);
- quantity S - A, rounded up to whole packs and to at least the minimum order quantity (itself
  rounded up to packs); upper limits (what may still be sold of a PSM, warehouse capacity) round
  down to whole packs, and a quantity below the minimum order becomes no order.

PSM gating: a PSM may be sold until its authorisation ends plus the sell-out period (none after a
withdrawal for risk). Goods that arrive after that day are not ordered; otherwise the order is
limited to what the forecast says will sell by then, after the stock on hand (expected
sell-through), and no safety stock is kept beyond it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace

import numpy as np

EPS = 1e-9

# statuses of a plan row
ORDER = "order"  # a proposal
SUFFICIENT = "sufficient"  # stock lasts beyond the next review
PSM_BLOCKED = "psm_blocked"  # may not be sold by the time it could arrive (or not enough of it)
CAPACITY = "capacity_full"  # needed, but the warehouse has no room at arrival
NO_HISTORY = "no_history"  # no sales: no forecast, planned by hand
EXCLUDED = "excluded"  # inactive or deleted article
MASTER_DATA_ERROR = "master_data_error"  # pack size, minimum order or lead time unusable
STATUSES = (ORDER, SUFFICIENT, PSM_BLOCKED, CAPACITY, NO_HISTORY, EXCLUDED, MASTER_DATA_ERROR)


def safety_stock(z: float, lead_days: float, sigma_daily: float, mean_daily: float, sigma_lead_days: float) -> float:
    """z * sqrt(L * sigma_d^2 + d^2 * sigma_L^2)."""
    if lead_days < 0 or sigma_daily < 0 or mean_daily < 0 or sigma_lead_days < 0:
        raise ValueError("lead time, demand and their deviations must not be negative")
    return max(0.0, z) * math.sqrt(lead_days * sigma_daily**2 + mean_daily**2 * sigma_lead_days**2)


def packs_up(quantity: float, pack: float) -> float:
    """The smallest whole number of packs holding `quantity`."""
    return math.ceil(quantity / pack - EPS) * pack if quantity > 0 else 0.0


def packs_down(quantity: float, pack: float) -> float:
    """The largest whole number of packs within `quantity`."""
    return math.floor(quantity / pack + EPS) * pack if quantity > 0 else 0.0


def order_quantity(shortfall: float, pack: float, min_order: float) -> float:
    """Whole packs covering the shortfall, at least the minimum order quantity (in whole packs)."""
    if pack <= 0:
        raise ValueError(f"pack size must be positive, got {pack}")
    if shortfall <= 0:
        return 0.0
    return round(max(packs_up(shortfall, pack), packs_up(max(min_order, 0.0), pack)), 3)


def limit_quantity(quantity: float, limit: float, pack: float, min_order: float) -> float:
    """`quantity` cut to an upper limit in whole packs; 0 when that falls below the minimum order."""
    if quantity <= limit + EPS:
        return quantity
    cut = packs_down(limit, pack)
    return round(cut, 3) if cut > 0 and cut + EPS >= packs_up(max(min_order, 0.0), pack) else 0.0


@dataclass(frozen=True)
class PairInput:
    """What the policy needs of one article in one warehouse."""

    as_of: dt.date
    daily_forecast: np.ndarray  # demand on each day after the as-of day (at least L + R days)
    sigma_daily: float  # standard deviation of the daily forecast error
    lead_time_days: int
    sigma_lead_days: float
    review_period_days: int
    z: float
    pack_size: float
    min_order_qty: float
    on_hand: float
    reserved: float
    open_po: tuple[tuple[dt.date, float], ...] = ()  # (expected_on, quantity) of open lines
    psm_sellable_until: dt.date | None = None
    psm_authorization_unknown: bool = False  # a PSM without an authorisation end in the ERP
    past_mean_daily: float = 0.0  # mean daily demand over the past year (season peaks)
    peak_factor: float = 1.5
    with_safety_stock: bool = True  # False for sporadic demand: ordered when customers ask


@dataclass(frozen=True)
class PairPlan:
    status: str
    proposed_qty: float
    required_qty: float  # S - A before rounding and limits (0 when none needed)
    order_by: dt.date | None
    expected_arrival: dt.date | None
    mean_daily: float
    demand_lead_time: float
    demand_protection: float  # over lead time + review period
    safety_stock: float
    reorder_point: float
    order_up_to: float
    available: float
    open_po_in_time: float
    stock_lasts_until: dt.date | None  # last day the available stock covers (None: beyond the horizon)
    below_safety_from: dt.date | None  # first day the projected stock is below the safety stock
    season_peak_from: dt.date | None
    sellable_limit: float | None  # most that may be ordered of a PSM (before packs)
    notes: tuple[str, ...] = field(default_factory=tuple)  # facts for the reason: psm_late, psm_unknown, ...


def _first_below(projection: np.ndarray, level: float) -> int | None:
    """First day t >= 1 whose projected stock is below `level`."""
    hits = np.flatnonzero(projection[1:] < level - EPS)
    return int(hits[0]) + 1 if hits.size else None


def season_peak(inp: PairInput) -> dt.date | None:
    """First day of the first coming week whose forecast is at least peak_factor times the past
    year's mean, when the current week is not yet at that level."""
    if inp.past_mean_daily <= 0:
        return None
    weeks = len(inp.daily_forecast) // 7
    weekly = inp.daily_forecast[: weeks * 7].reshape(weeks, 7).sum(axis=1) if weeks else np.zeros(0)
    threshold = inp.peak_factor * inp.past_mean_daily * 7
    if weekly.size == 0 or weekly[0] >= threshold - EPS:
        return None
    later = np.flatnonzero(weekly >= threshold - EPS)
    return inp.as_of + dt.timedelta(days=int(later[0]) * 7 + 1) if later.size else None


def plan_pair(inp: PairInput) -> PairPlan:
    """Status, quantity, dates and the numbers behind them for one article and warehouse."""
    lead, review = inp.lead_time_days, inp.review_period_days
    f = np.asarray(inp.daily_forecast, dtype=float)
    if len(f) < lead + review:
        raise ValueError(f"the forecast covers {len(f)} days, lead time + review period need {lead + review}")
    if (f < 0).any():
        raise ValueError("the demand forecast must not be negative")
    cum = np.concatenate([[0.0], np.cumsum(f)])
    demand_lead, demand_protection = float(cum[lead]), float(cum[lead + review])
    mean_daily = demand_lead / lead if lead > 0 else float(f[0]) if len(f) else 0.0
    ss = safety_stock(inp.z, lead, inp.sigma_daily, mean_daily, inp.sigma_lead_days) if inp.with_safety_stock else 0.0
    horizon_end = inp.as_of + dt.timedelta(days=lead)
    in_time = sum(q for day, q in inp.open_po if day <= horizon_end)
    available = inp.on_hand - inp.reserved + in_time
    projection = available - cum
    below_ss = _first_below(projection, ss)
    empty = _first_below(projection, 0.0)
    stock_lasts_until = (
        inp.as_of + dt.timedelta(days=empty - 1) if empty is not None else None
    )  # the last day still covered
    order_up_to = demand_protection + ss
    needed = available < order_up_to - EPS
    order_by = inp.as_of + dt.timedelta(days=below_ss - lead) if below_ss is not None else None
    plan = PairPlan(
        status=SUFFICIENT,
        proposed_qty=0.0,
        required_qty=max(0.0, order_up_to - available) if needed else 0.0,
        order_by=max(order_by, inp.as_of) if order_by and needed else order_by,
        expected_arrival=None,
        mean_daily=mean_daily,
        demand_lead_time=demand_lead,
        demand_protection=demand_protection,
        safety_stock=ss,
        reorder_point=demand_lead + ss,
        order_up_to=order_up_to,
        available=available,
        open_po_in_time=in_time,
        stock_lasts_until=stock_lasts_until,
        below_safety_from=inp.as_of + dt.timedelta(days=below_ss) if below_ss is not None else None,
        season_peak_from=season_peak(inp),
        sellable_limit=None,
    )
    if not needed:
        return plan
    notes = ["overdue"] if order_by is not None and order_by < inp.as_of else []
    qty = order_quantity(order_up_to - available, inp.pack_size, inp.min_order_qty)
    arrival = inp.as_of + dt.timedelta(days=lead)
    if inp.psm_authorization_unknown:
        return replace(plan, status=PSM_BLOCKED, notes=("psm_unknown",))
    if inp.psm_sellable_until is not None:
        if inp.psm_sellable_until < arrival:
            return replace(plan, status=PSM_BLOCKED, notes=("psm_late",))
        sell_days = min((inp.psm_sellable_until - inp.as_of).days, len(f))
        # what the order itself can sell by then: sales until the end of the sell-out period,
        # less what the stock on hand (or, if it runs out first, the days before arrival) covers
        limit = float(cum[sell_days]) - max(available, demand_lead)
        plan = replace(plan, sellable_limit=max(0.0, limit))
        if limit <= EPS:
            return replace(plan, status=PSM_BLOCKED, notes=("psm_stock_covers",))
        limited = limit_quantity(qty, limit, inp.pack_size, inp.min_order_qty)
        if limited <= 0:
            return replace(plan, status=PSM_BLOCKED, notes=("psm_min_order",))
        if limited < qty:
            notes.append("psm_limited")
        qty = limited
    return replace(plan, status=ORDER, proposed_qty=qty, expected_arrival=arrival, notes=tuple(notes))


# ------------------------------------------------------------------------------ capacity


@dataclass(frozen=True)
class CapacityItem:
    """A proposal (or any stock) in one warehouse, for the capacity check."""

    index: int  # position in the caller's list
    tonnes_per_unit: float
    available: float  # on hand - reserved (physical stock that is not sold yet)
    arrivals: tuple[tuple[int, float], ...]  # (day offset, quantity) of open purchase orders
    cum_demand: np.ndarray  # D(t), t = 0..H
    proposed_qty: float = 0.0
    arrival_day: int = 0
    pack_size: float = 1.0
    min_order_qty: float = 0.0
    priority: tuple = ()


def _trajectory(item: CapacityItem, extra: float = 0.0) -> np.ndarray:
    """Projected physical stock per day 0..H, with `extra` arriving on the item's arrival day."""
    horizon = len(item.cum_demand)
    inbound = np.zeros(horizon)
    for day, qty in item.arrivals:
        inbound[min(max(day, 0), horizon - 1)] += qty
    if extra:
        inbound[min(item.arrival_day, horizon - 1)] += extra
    return np.maximum(0.0, item.available + np.cumsum(inbound) - item.cum_demand)


def allocate_capacity(
    capacity_t: float | None, stock: list[CapacityItem], proposals: list[CapacityItem]
) -> dict[int, tuple[float, float]]:
    """Proposals cut to what fits: index -> (quantity, tonnes free at its arrival).

    The warehouse's load per day is the projected stock of everything in it (open purchase orders
    on their expected day, the forecast sold off); proposals are admitted in priority order (the
    most urgent order-by date first), each up to the room left on every day from its arrival on.
    """
    result = {p.index: (p.proposed_qty, math.inf) for p in proposals}
    if capacity_t is None:
        return result
    horizon = max((len(i.cum_demand) for i in stock + proposals), default=1)
    load = np.zeros(horizon)
    for item in stock:
        if item.tonnes_per_unit > 0:
            traj = _trajectory(item)
            load[: len(traj)] += traj * item.tonnes_per_unit
    for p in sorted(proposals, key=lambda p: p.priority):
        if p.tonnes_per_unit <= 0 or p.proposed_qty <= 0:
            continue
        base = _trajectory(p)
        extra = (_trajectory(p, p.proposed_qty) - base) * p.tonnes_per_unit
        after = load[p.arrival_day :] + extra[p.arrival_day :]
        free = float(capacity_t - load[p.arrival_day :].max()) if after.size else float(capacity_t)
        qty = p.proposed_qty
        if after.size and after.max() > capacity_t + EPS:
            qty = limit_quantity(qty, max(0.0, free) / p.tonnes_per_unit, p.pack_size, p.min_order_qty)
            extra = (_trajectory(p, qty) - base) * p.tonnes_per_unit
        load += extra
        result[p.index] = (qty, max(0.0, free))
    return result
