"""Pandera (polars) schemas of the contract tables: what a structurally sound row looks like.

Derived from `neuroerp.contract`: required fields, allowed values, ISO countries and German Länder,
parseable JSON, UUID syntax, plausible timestamps and dates, bounded text. Domain rules (a
malformed BVL number, an invalid IBAN, a missing certificate) are deliberately absent: such rows
are sound input and flow into raw, where the compliance and finance checks find them.
"""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from neuroerp.contract import GERMAN_LANDS, ColumnType, Semantic, Table
from neuroerp.ingest.parsing import ROW
from neuroerp.reference.countries import ISO_COUNTRIES

MAX_TEXT = 10_000  # characters of an ordinary text field
MAX_JSON = 1_000_000  # characters of a JSON document
EARLIEST_INSTANT = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
EARLIEST_DATE = dt.date(1950, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
FUTURE_TOLERANCE = dt.timedelta(days=1)  # clocks differ; a recorded event is not days ahead
PLANNING_HORIZON = dt.timedelta(days=3 * 366)  # planned instants (arrivals, lease ends) may lie ahead
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def _valid_json(data) -> pl.LazyFrame:
    col = pl.col(data.key)
    return data.lazyframe.select(col.is_null() | col.str.json_path_match("$").is_not_null())


def _checks(column, now: dt.datetime) -> list[pa.Check]:
    checks = []
    if column.values:
        checks.append(pa.Check.isin(list(column.values), error=f"unknown value (allowed: {'|'.join(column.values)})"))
    if column.semantic is Semantic.COUNTRY:
        checks.append(pa.Check.isin(sorted(ISO_COUNTRIES), error="not an ISO 3166 country code"))
    if column.semantic is Semantic.GERMAN_LAND:
        checks.append(pa.Check.isin(sorted(GERMAN_LANDS), error="not a German Land code"))
    match column.type:
        case ColumnType.TEXT:
            checks.append(pa.Check.str_length(max_value=MAX_TEXT, error=f"text longer than {MAX_TEXT} characters"))
        case ColumnType.JSON_TEXT | ColumnType.JSONB:
            checks.append(pa.Check.str_length(max_value=MAX_JSON, error=f"JSON longer than {MAX_JSON} characters"))
            checks.append(pa.Check(_valid_json, error="not valid JSON"))
        case ColumnType.UUID:
            checks.append(pa.Check.str_matches(UUID_PATTERN, error="not a UUID"))
        case ColumnType.TIMESTAMPTZ:
            latest = now + (PLANNING_HORIZON if column.planned else FUTURE_TOLERANCE)
            checks.append(pa.Check.in_range(EARLIEST_INSTANT, latest, error="implausible timestamp"))
        case ColumnType.TIMESTAMP:
            latest = (now + FUTURE_TOLERANCE).replace(tzinfo=None)
            checks.append(
                pa.Check.in_range(EARLIEST_INSTANT.replace(tzinfo=None), latest, error="implausible timestamp")
            )
        case ColumnType.DATE:
            checks.append(pa.Check.in_range(EARLIEST_DATE, LATEST_DATE, error="implausible date"))
    return checks


def table_schema(spec: Table, now: dt.datetime | None = None) -> pa.DataFrameSchema:
    """The pandera schema of one contract table; `now` bounds plausible timestamps."""
    now = now or dt.datetime.now(dt.UTC)
    columns = {
        c.name: pa.Column(
            c.type.polars_type,
            nullable=c.nullable and c.name not in spec.primary_key,
            checks=_checks(c, now),
        )
        for c in spec.columns
    }
    columns[ROW] = pa.Column(pl.UInt32)
    return pa.DataFrameSchema(columns, name=spec.qualified_name, strict=True, ordered=False)


def find_problems(schema: pa.DataFrameSchema, spec: Table, typed: pl.DataFrame) -> pl.DataFrame:
    """(ROW, reason) for every failed check of every row."""
    try:
        schema.validate(typed, lazy=True)
    except SchemaErrors as errors:
        cases = errors.failure_cases
    else:
        return pl.DataFrame(schema={ROW: pl.UInt32, "reason": pl.String})
    if "index" not in cases.columns or cases["index"].null_count():
        # a schema-level failure (wrong dtype, missing column) is a defect of ours, not bad input
        raise ValueError(f"{spec.qualified_name}: validation failed for the whole frame:\n{cases}")
    keys = set(spec.primary_key)
    rows = typed.select(ROW).with_row_index("index")
    return (
        cases.with_columns(pl.col("index").cast(pl.UInt32))
        .join(rows, on="index")
        .select(
            ROW,
            reason=pl.when(pl.col("check") == "not_nullable")
            .then(
                pl.when(pl.col("column").is_in(list(keys)))
                .then(pl.format("{}: missing primary key", "column"))
                .otherwise(pl.format("{}: missing required value", "column"))
            )
            .otherwise(pl.format("{}: {} (got {})", "column", "check", pl.col("failure_case").str.slice(0, 60))),
        )
    )
