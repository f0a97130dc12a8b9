"""Pandera (polars) schemas of the contract tables: what a structurally sound row looks like.

Derived from `neuroerp.contract`: required fields, allowed values, ISO countries and German Länder,
parseable JSON, UUID syntax, plausible timestamps and dates, bounded text. Domain rules (a
malformed BVL number, an invalid IBAN, a missing certificate) are deliberately absent: such rows
are sound input and flow into raw, where the compliance and finance checks find them.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import duckdb
import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from neuroerp.contract import GERMAN_LANDS, ColumnType, Semantic, Table
from neuroerp.ingest.parsing import ROW
from neuroerp.reference.countries import ISO_COUNTRIES

MAX_TEXT = 10_000  # characters of an ordinary text field
MAX_JSON = 1_000_000  # characters of a JSON document
# the deepest nesting loaded: what polars' JSON parser takes (it refuses 128 levels); PostgreSQL's
# jsonb accepts far deeper documents, which no consumer of the warehouse could read back
MAX_JSON_DEPTH = 127
NOT_JSON = "not valid JSON"
EARLIEST_INSTANT = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
EARLIEST_DATE = dt.date(1950, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
FUTURE_TOLERANCE = dt.timedelta(days=1)  # clocks differ; a recorded event is not days ahead
PLANNING_HORIZON = dt.timedelta(days=3 * 366)  # planned instants (arrivals, lease ends) may lie ahead
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def _valid_json(data) -> pl.LazyFrame:
    col = pl.col(data.key)
    return data.lazyframe.select(col.is_null() | col.str.json_path_match("$").is_not_null())


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]")


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest (strings skipped); also for text that is not JSON."""
    depth = deepest = 0
    for bracket in _NOT_BRACKET.sub("", _JSON_STRING.sub('""', text)):
        depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


def json_problem(text: str) -> str | None:
    """Why a document polars' parser refused is not loaded; None when it is valid after all.

    polars' parser also refuses valid JSON it cannot represent (a number such as 1e400, which
    PostgreSQL's jsonb keeps): such documents are accepted when both Python's strict parser and
    DuckDB's (the warehouse stores it) accept them.
    """
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        return f"JSON nested deeper than {MAX_JSON_DEPTH} levels (depth {depth})"
    try:
        json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        return f"{NOT_JSON}: {str(exc)[:200]}"
    with duckdb.connect() as conn:
        try:
            conn.execute("SELECT CAST(? AS JSON)", [text]).fetchall()
        except duckdb.Error as exc:
            said = str(exc).splitlines()[0].split("  Input:")[0].removeprefix("Conversion Error: ")
            return f"{NOT_JSON}: {said[:200]}"
    return None


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
            checks.append(pa.Check(_valid_json, error=NOT_JSON))
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
    cases = _second_opinion_on_json(cases, typed)
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


def _second_opinion_on_json(cases: pl.DataFrame, typed: pl.DataFrame) -> pl.DataFrame:
    """Word each refused JSON document's true reason, and drop the refusals that were valid JSON."""
    refused = pl.col("check") == NOT_JSON
    if not cases.select(refused.any()).item():
        return cases
    kept = []
    for case in cases.filter(refused).iter_rows(named=True):
        problem = json_problem(typed[case["column"]][int(case["index"])])
        if problem is not None:
            kept.append({**case, "check": problem})
    return pl.concat([cases.filter(~refused), pl.DataFrame(kept, schema=cases.schema)])
