"""What a reorder run is configured with: service level, review period, forecast and backtest
windows, and the defaults for what the ERP contract does not carry (weights per unit, lead-time
variability without delivery history).

The service level and the review period are run configuration (Dagster records them with the
run); the rest has documented defaults that a run may override.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from statistics import NormalDist

# Kilograms per sales unit that count against the warehouse capacity (capacity_t). A site's
# capacity in tonnes is its bulk storage (silos, flat stores for grain, fertiliser and feed), so
# by default only goods sold by the tonne count; packed goods (kg, l, bag, piece) live in the
# packed-goods store, whose size the ERP does not record. The contract carries no weight per
# article: a run that wants packed goods counted too sets e.g. {"t": 1000, "kg": 1, "l": 1,
# "bag": 25, "piece": 1} (water density for litres, 25 kg sacks).
DEFAULT_KG_PER_UNIT = {"t": 1000.0, "kg": 0.0, "l": 0.0, "bag": 0.0, "piece": 0.0}


class ConfigError(ValueError):
    """A reorder run's configuration is out of range; the message says which value and why."""


@dataclass(frozen=True)
class ReorderConfig:
    service_level: float = 0.95  # probability of no stock-out during the lead time (cycle service level)
    review_period_days: int = 7  # purchasing reviews the proposals this often
    horizon_weeks: int = 26  # how far the demand forecast reaches (at least lead time + review period)
    backtest_horizon_weeks: int = 8  # each backtest window forecasts this many weeks
    backtest_step_weeks: int = 4  # forecast origins this far apart
    min_train_weeks: int = 56  # a year and a month of history before the first backtest origin
    holdout_weeks: int = 16  # the latest weeks: reported only, never used to choose a model
    default_lead_time_days: int = 14  # for articles without a lead time
    default_lead_time_cv: float = 0.25  # sigma_L / L for suppliers with fewer than min_deliveries receipts
    min_deliveries: int = 3  # receipts of a supplier needed to measure its lateness
    peak_factor: float = 1.5  # a forecast week this far above the past year's mean is a season peak
    min_sales_weeks: int = 3  # fewer weeks with sales: sporadic, no safety stock (order on customer demand)
    kg_per_unit: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_KG_PER_UNIT))

    def __post_init__(self) -> None:
        checks = [
            (0.5 <= self.service_level < 1.0, "service_level must be in [0.5, 1)"),
            (1 <= self.review_period_days <= 91, "review_period_days must be in 1..91"),
            (4 <= self.horizon_weeks <= 104, "horizon_weeks must be in 4..104"),
            (1 <= self.backtest_horizon_weeks <= 26, "backtest_horizon_weeks must be in 1..26"),
            (1 <= self.backtest_step_weeks <= 26, "backtest_step_weeks must be in 1..26"),
            (self.min_train_weeks >= 53, "min_train_weeks must be at least 53 (a season and one week)"),
            (self.holdout_weeks >= self.backtest_horizon_weeks, "holdout_weeks must cover one backtest window"),
            (0 <= self.default_lead_time_days <= 365, "default_lead_time_days must be in 0..365"),
            (0 <= self.default_lead_time_cv <= 2, "default_lead_time_cv must be in 0..2"),
            (self.min_deliveries >= 2, "min_deliveries must be at least 2"),
            (self.peak_factor > 1, "peak_factor must be above 1"),
            (self.min_sales_weeks >= 0, "min_sales_weeks must not be negative"),
            (all(v >= 0 for v in self.kg_per_unit.values()), "kg_per_unit must not be negative"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"{message} (got {self._value_of(message)})")

    def _value_of(self, message: str) -> object:
        return getattr(self, message.split()[0], None)

    @property
    def z(self) -> float:
        """Safety factor of the service level: the standard normal quantile."""
        return NormalDist().inv_cdf(self.service_level)

    def as_record(self) -> dict:
        """What the run used, for the metadata and the export."""
        return asdict(self)
