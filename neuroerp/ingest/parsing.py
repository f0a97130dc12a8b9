"""From extracted values to contract types, remembering every value that would not convert.

A value that is present but cannot become its column's type (text in an integer column, an
impossible date, a naive timestamp where the contract wants a time zone, bytes that are not
UTF-8) is set to null in the typed frame and reported with its row; the row goes to quarantine.
"""

from __future__ import annotations

import polars as pl

from neuroerp.contract import ColumnType, Table
from neuroerp.ingest.readers import INVALID_UTF8

ROW = "__row"  # position of a row in its batch
TRUE_TEXT = {"1": True, "0": False, "true": True, "false": False, "t": True, "f": False}
TS_WITH_ZONE = "%Y-%m-%dT%H:%M:%S%.f%z"
TS_NAIVE = "%Y-%m-%dT%H:%M:%S%.f"
CANONICAL_KEY_TYPES = (ColumnType.DATE, ColumnType.INT, ColumnType.BIGINT, ColumnType.UUID)


def _iso(text: pl.Expr) -> pl.Expr:
    """Normalise separators: '2025-01-01 10:00:00Z' -> '2025-01-01T10:00:00+00:00'."""
    return text.str.strip_chars().str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T").str.replace(r"Z$", "+00:00")


def _from_text(col: pl.Expr, type_: ColumnType) -> tuple[pl.Expr, pl.Expr | None]:
    """Parse text into the type; also an expression that is true where text had no time zone."""
    match type_:
        case ColumnType.BOOL:
            return col.str.to_lowercase().replace_strict(TRUE_TEXT, default=None, return_dtype=pl.Boolean), None
        case ColumnType.INT | ColumnType.BIGINT:
            return col.str.strip_chars().cast(type_.polars_type, strict=False), None
        case ColumnType.MONEY | ColumnType.QUANTITY | ColumnType.PERCENT:
            # SQLite keeps numerics as REAL: read the float, round to the contract's scale
            _, scale = type_.numeric_precision
            return col.cast(pl.Float64, strict=False).round(scale).cast(type_.polars_type, strict=False), None
        case ColumnType.TIMESTAMPTZ:
            iso = _iso(col)
            zoned = iso.str.to_datetime(TS_WITH_ZONE, strict=False, time_unit="us", time_zone="UTC")
            naive = iso.str.to_datetime(TS_NAIVE, strict=False, time_unit="us").is_not_null()
            return zoned, naive
        case ColumnType.TIMESTAMP:
            iso = _iso(col)
            plain = iso.str.to_datetime(TS_NAIVE, strict=False, time_unit="us")
            zoned = iso.str.to_datetime(TS_WITH_ZONE, strict=False, time_unit="us", time_zone="UTC")
            return pl.coalesce(plain, zoned.dt.replace_time_zone(None)), None
        case ColumnType.DATE:
            return col.str.strip_chars().str.to_date("%Y-%m-%d", strict=False), None
    return col, None


def _from_typed(col: pl.Expr, type_: ColumnType, dtype: pl.DataType) -> pl.Expr:
    """Values the driver already typed (PostgreSQL): numerics arrive as int8 in units of their scale."""
    if type_.numeric_precision:
        precision, scale = type_.numeric_precision
        if dtype.is_integer():
            return (col.cast(pl.Decimal(precision + scale + 2, scale)) / 10**scale).cast(type_.polars_type)
        return col.cast(type_.polars_type, strict=False)
    if type_ is ColumnType.TIMESTAMPTZ and dtype == pl.Datetime("us"):
        return col.dt.replace_time_zone("UTC")
    return col.cast(type_.polars_type, strict=False)


def parse(spec: Table, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The typed frame (contract dtypes, plus ROW) and the problems found: (ROW, reason).

    Reasons are worded only for the rows that failed: formatting every value would cost more
    than the conversion itself.
    """
    typed_exprs, failed_exprs, reason_exprs = [pl.int_range(pl.len(), dtype=pl.UInt32).alias(ROW)], [], []
    for c in spec.columns:
        source = pl.col(c.name)
        dtype = frame.schema[c.name]
        bad_text = None
        if dtype == pl.String:
            bad_text = source.str.starts_with(INVALID_UTF8)
            text = pl.when(bad_text).then(None).otherwise(source)
            typed, naive = (text, None) if c.type in (ColumnType.TEXT, ColumnType.UUID, ColumnType.JSONB,
                                                      ColumnType.JSON_TEXT) else _from_text(text, c.type)  # fmt: skip
        else:
            typed, naive = _from_typed(source, c.type, dtype), None
        failed = source.is_not_null() & typed.is_null()
        label = c.type.value if not c.type.numeric_precision else "numeric({},{})".format(*c.type.numeric_precision)
        reason = pl.format(f"{c.name}: {{}} is not a valid {label}", source.cast(pl.String).str.slice(0, 60))
        if c.name in spec.primary_key and dtype == pl.String and c.type in CANONICAL_KEY_TYPES:
            # a key must read as the warehouse writes it ('2025-01-03', not '2025-1-3'), or its row
            # could never be matched again: such rows wait in quarantine until fixed at the source
            canonical = typed.cast(pl.String).str.to_lowercase() if c.type is ColumnType.UUID else typed.cast(pl.String)
            if c.type is ColumnType.UUID:
                typed = canonical
            odd = typed.is_not_null() & (canonical != source)
            reason = (
                pl.when(odd)
                .then(pl.format(f"{c.name}: key {{}} is not written as {{}}", source, canonical))
                .otherwise(reason)
            )
            failed = failed | odd
        typed_exprs.append(typed.alias(c.name))
        if bad_text is not None:
            failed = failed | bad_text
        failed_exprs.append(failed.alias(c.name))
        if naive is not None:
            reason = (
                pl.when(naive).then(pl.format(f"{c.name}: timestamp {{}} has no time zone", source)).otherwise(reason)
            )
        if bad_text is not None:
            reason = pl.when(bad_text).then(pl.lit(f"{c.name}: text is not valid UTF-8")).otherwise(reason)
        reason_exprs.append(pl.when(failed).then(reason).alias(c.name))
    typed = frame.select(typed_exprs)
    failing = frame.select(pl.any_horizontal(failed_exprs).alias("any")).to_series()
    if not failing.any():
        return typed, pl.DataFrame(schema={ROW: pl.UInt32, "reason": pl.String})
    problems = (
        frame.with_row_index(ROW)
        .filter(failing)
        .select(ROW, *reason_exprs)
        .unpivot(index=ROW, value_name="reason")
        .drop_nulls("reason")
        .select(ROW, "reason")
    )
    return typed, problems
