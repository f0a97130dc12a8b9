"""Settings every part of the generator shares: tenants, sizes, the clock."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from neuroerp.seed.randomness import Randomness

# Row counts at scale 1 (the "≈" figures); derived tables follow from these.
SCALE_1 = {
    "customers": 20_000,
    "articles": 5_000,
    "suppliers": 400,
    "staff": 120,
    "sales_orders": 200_000,
    "purchase_orders": 20_000,
    "manure_deliveries": 3_000,
    "suspicious_transactions": 200,
    "gdpr_requests": 500,
    "sagas": 10_000,
}
# Floors per tenant so that even scale 0.01 has every kind of entity the rules look at.
FLOORS = {
    "customers": 90,
    "articles": 110,
    "suppliers": 14,
    "staff": 6,
    "sales_orders": 400,
    "purchase_orders": 60,
    "manure_deliveries": 40,  # above the 200 t a year that make a company's deliveries reportable
    "suspicious_transactions": 6,
    "gdpr_requests": 10,
    "sagas": 40,
}
HISTORY_DAYS = 730  # two years of trade
OUTBOX_DAYS = 120  # the outbox keeps about four months of events before cleanup


@dataclass(frozen=True)
class TenantProfile:
    tenant_id: str
    name: str
    share: float
    lands: dict[str, float]
    warehouses: tuple[tuple[str, str, float], ...]  # (site, Land, capacity in t)
    foreign: tuple[str, ...]
    credit_line: float
    credit_rate_pct: float
    trades_manure: bool


TENANTS = (
    TenantProfile(
        tenant_id="lh-nord",
        name="Landhandel Nord eG",
        share=0.65,
        lands={"NI": 0.55, "NW": 0.15, "SH": 0.09, "ST": 0.06, "MV": 0.05, "BB": 0.04, "HE": 0.03, "HB": 0.01,
               "HH": 0.02},
        warehouses=(("Cloppenburg", "NI", 12000), ("Vechta", "NI", 9000), ("Uelzen", "NI", 7000),
                    ("Stade", "NI", 5000), ("Soest", "NW", 8000), ("Borken", "NW", 6000),
                    ("Husum", "SH", 4000), ("Salzwedel", "ST", 5000)),
        foreign=("NL", "DK"),
        credit_line=4_000_000,
        credit_rate_pct=7.5,
        trades_manure=True,
    ),
    TenantProfile(
        tenant_id="lh-sued",
        name="Agrarhandel Süd GmbH",
        share=0.35,
        lands={"BY": 0.6, "BW": 0.25, "HE": 0.07, "TH": 0.04, "RP": 0.04},
        warehouses=(("Straubing", "BY", 9000), ("Ansbach", "BY", 6000), ("Ehingen", "BW", 5000),
                    ("Fulda", "HE", 4000)),
        foreign=("AT",),
        credit_line=2_500_000,
        credit_rate_pct=8.25,
        trades_manure=False,
    ),
)  # fmt: skip


@dataclass
class Context:
    seed: int
    scale: float
    as_of: dt.date
    rnd: Randomness = field(init=False)

    def __post_init__(self) -> None:
        if not (0 < self.scale <= 20):
            raise ValueError(f"scale must be in (0, 20], got {self.scale}")
        self.rnd = Randomness(self.seed)

    @property
    def now(self) -> dt.datetime:
        """The generator's clock: 21:00 UTC on the as-of day, after the day's business."""
        return dt.datetime.combine(self.as_of, dt.time(21, 0), tzinfo=dt.UTC)

    @property
    def history_start(self) -> dt.date:
        return self.as_of - dt.timedelta(days=HISTORY_DAYS)

    def count(self, name: str, tenant: TenantProfile) -> int:
        return max(FLOORS[name], round(SCALE_1[name] * self.scale * tenant.share))

    def planted(self, per_scale_1: int, tenant: TenantProfile) -> int:
        """How many violations of one kind to plant: a few per mille, at least one per tenant."""
        return max(1, math.ceil(per_scale_1 * self.scale * tenant.share))

    def rng(self, *parts: str) -> np.random.Generator:
        return self.rnd.stream("/".join(parts))

    def history_days(self) -> np.ndarray:
        """Every local business day of the history window (numpy datetime64[D])."""
        return np.arange(np.datetime64(self.history_start), np.datetime64(self.as_of) + 1)

    @property
    def now_expr(self) -> pl.Expr:
        return pl.lit(self.now).dt.cast_time_unit("us")
