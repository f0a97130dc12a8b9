"""Deterministic random helpers for the demo generator: the same seed gives the same data."""

from __future__ import annotations

import zlib

import numpy as np
import polars as pl

BERLIN = "Europe/Berlin"


class Randomness:
    """A numpy generator per named stream.

    Each part of the generator draws from its own stream (derived from the seed and the part's
    name), so adding draws in one part never changes the data of another.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def stream(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(name.encode())])


def uuids(rng: np.random.Generator, n: int) -> list[str]:
    """n random version-4 UUID strings drawn from rng."""
    if n == 0:
        return []
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexes = raw.tobytes().hex()
    return [
        f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
        for h in (hexes[i : i + 32] for i in range(0, 32 * n, 32))
    ]


def weighted_choice(rng: np.random.Generator, n: int, weights: np.ndarray | list[float]) -> np.ndarray:
    """n indices drawn with the given (unnormalised) weights."""
    w = np.asarray(weights, dtype=float)
    return rng.choice(len(w), size=n, p=w / w.sum())


def pick(rng: np.random.Generator, values: list | np.ndarray, n: int, weights=None) -> np.ndarray:
    values = np.asarray(values, dtype=object)
    if weights is None:
        return values[rng.integers(0, len(values), size=n)]
    return values[weighted_choice(rng, n, weights)]


def zipf_weights(n: int, exponent: float = 1.0) -> np.ndarray:
    return 1.0 / np.arange(1, n + 1) ** exponent


def local_to_utc(local: pl.Expr) -> pl.Expr:
    """Naive German local time to a UTC timestamp."""
    return (
        local.dt.replace_time_zone(BERLIN, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .dt.cast_time_unit("us")
    )


def business_instants(
    rng: np.random.Generator, days: np.ndarray, start_hour: float = 7.0, end_hour: float = 18.0
) -> pl.Series:
    """UTC instants at German business hours on the given local days (numpy datetime64[D])."""
    seconds = rng.uniform(start_hour * 3600, end_hour * 3600, size=len(days)).astype("int64")
    local = days.astype("datetime64[us]") + (seconds * 1_000_000).astype("timedelta64[us]")
    return pl.select(local_to_utc(pl.lit(pl.Series(local)))).to_series()


def durations(values: np.ndarray, unit: str = "h") -> pl.Series:
    """A Duration series from numbers of the unit (h, m, s, D)."""
    per = {"D": 86_400_000_000, "h": 3_600_000_000, "m": 60_000_000, "s": 1_000_000}[unit]
    return pl.Series((np.asarray(values, dtype=float) * per).astype("int64")).cast(pl.Duration("us"))


def money(values: np.ndarray) -> np.ndarray:
    """Round to cents, half away from zero, as a bookkeeper would."""
    return np.sign(values) * np.floor(np.abs(values) * 100 + 0.5) / 100


def iban(country: str, bban: str) -> str:
    """A valid IBAN for a country and basic bank account number (ISO 13616 mod-97 check digits)."""
    rearranged = bban + country + "00"
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    check = 98 - int(digits) % 97
    return f"{country}{check:02d}{bban}"
