"""Public reference data packaged with the product (see `data/SOURCES.md`)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

DATA_DIR = Path(__file__).parent / "data"


def _read(name: str, **schema: pl.DataType) -> pl.DataFrame:
    return pl.read_csv(DATA_DIR / name, schema_overrides=schema, infer_schema_length=None)


@cache
def bvl_products() -> pl.DataFrame:
    """Authorised plant protection products: kennr, name, formulation, authorised_until, ..."""
    return _read("bvl_products.csv", kennr=pl.String, first_authorised_on=pl.Date, authorised_until=pl.Date)


@cache
def postal_codes() -> pl.DataFrame:
    """German postal codes of places with their Land and coordinates."""
    return _read("postal_codes.csv", postal_code=pl.String)


@cache
def fertilisers() -> pl.DataFrame:
    """Fertilisers with nutrient contents and their explosives-precursor class."""
    return _read("fertilisers.csv")


@cache
def manures() -> pl.DataFrame:
    """Manure and digestate types with N and P2O5 in kg per tonne."""
    return _read("manures.csv")


@cache
def precursors() -> pl.DataFrame:
    """Substances of Annex I (restricted, with limits) and Annex II (reportable) of EU 2019/1148."""
    return _read("precursors.csv", limit_value=pl.Float64)
