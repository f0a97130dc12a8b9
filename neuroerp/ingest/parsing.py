"""From extracted values to contract types, remembering every value that would not convert.

A value that is present but cannot become its column's type (text in an integer column, an
impossible date, a naive timestamp where the contract wants a time zone, bytes that are not
UTF-8, NaN or ±Infinity in a numeric, a number with more digits or decimals than its column
holds, ±infinity or a year beyond 9999 in a date or timestamp) is set to null in the typed frame
and reported with its row; the row goes to quarantine. Numbers load exactly or not at all: a
value is never rounded to fit its column.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import polars as pl

from neuroerp.contract import ColumnType, Table
from neuroerp.ingest.readers import INVALID_UTF8, TEMPORAL_RANGE, UNLOADABLE

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
            # exact: plain decimal notation with at most the column's digits and decimals (trailing
            # zeros aside); SQLite prints its REALs with 15 significant digits, enough for numeric(14,s)
            precision, scale = type_.numeric_precision
            text = col.str.strip_chars()
            plain = rf"^[+-]?0*\d{{0,{precision - scale}}}(\.\d{{0,{scale}}}0*)?$"
            fits = text.str.contains(plain) & text.str.contains(r"\d")
            return pl.when(fits).then(text.cast(type_.polars_type, strict=False)), None
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


def numeric_problem(text: str, precision: int, scale: int) -> str:
    """Why a number cannot be a numeric(precision, scale): worded from its exact value."""
    label = f"numeric({precision},{scale})"
    shown = text.strip()[:60]
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return f"{shown} is not a valid {label}"
    if value.is_nan():
        return f"{shown} is not a number"
    if value.is_infinite():
        return f"{shown} is not a finite number"
    sign, digits, exponent = value.as_tuple()
    significant = "".join(map(str, digits)).rstrip("0")
    if not significant:
        return f"{shown} is not a valid {label}"
    exponent += len(digits) - len(significant)  # value = significant * 10**exponent
    whole_digits = len(significant) + exponent
    if whole_digits > precision - scale:
        return f"{shown} is out of range for {label} (at most {precision - scale} digits before the point)"
    if -exponent > scale:
        return f"{shown} has more decimal places than {label} holds ({scale})"
    return f"{shown} is not a valid {label}"


def unloadable_problem(text: str, type_: ColumnType) -> str:
    """Why a value PostgreSQL printed as `text` did not come through the binary path."""
    if type_.numeric_precision:
        return numeric_problem(text, *type_.numeric_precision)
    kind = "date" if type_ is ColumnType.DATE else "timestamp"
    if text.strip().lower() in ("infinity", "-infinity"):
        return f"{text} is not a finite {kind}"
    return f"{text[:60]} is outside the years 1 to 9999"


def _reason_of(c, worded) -> pl.Expr:
    return pl.format(f"{c.name}: {{}}", worded)


def parse(spec: Table, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The typed frame (contract dtypes, plus ROW) and the problems found: (ROW, reason).

    Reasons are worded only for the rows that failed: formatting every value would cost more
    than the conversion itself.
    """
    typed_exprs, failed_exprs, reason_exprs = [pl.int_range(pl.len(), dtype=pl.UInt32).alias(ROW)], [], []
    # PostgreSQL: values the binary path could not carry, as text (null for clean rows and batches)
    flagged = UNLOADABLE in frame.columns and frame[UNLOADABLE].null_count() < frame.height
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
        if c.type.numeric_precision and dtype == pl.String:
            precision, scale = c.type.numeric_precision
            worded = source.map_elements(lambda t, p=precision, s=scale: numeric_problem(t, p, s), pl.String)
            reason = pl.when(failed).then(_reason_of(c, worded)).otherwise(reason)
        if flagged and (c.type.numeric_precision or c.type in TEMPORAL_RANGE):
            original = pl.col(UNLOADABLE).str.json_path_match(f"$.{c.name}")
            worded = original.map_elements(lambda t, kind=c.type: unloadable_problem(t, kind), pl.String)
            reason = pl.when(original.is_not_null()).then(_reason_of(c, worded)).otherwise(reason)
            failed = failed | original.is_not_null()
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
