"""Pandera (polars) schemas of the contract tables: what a structurally sound row looks like.

Derived from `neuroerp.contract`: required fields, allowed values, ISO countries and German Länder,
parseable JSON, UUID syntax, plausible timestamps and dates, bounded text. Domain rules (a
malformed BVL number, an invalid IBAN, a missing certificate) are deliberately absent: such rows
are sound input and flow into raw, where the compliance and finance checks find them.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Rule:
    """One check of a column, as data: pandera's Check and the fused pre-screen are both made from
    `test` (a polars expression over the column; a null outcome passes, as with pandera's
    `ignore_na`),
    so the two can never disagree."""

    test: Callable[[pl.Expr], pl.Expr]
    error: str

    def check(self) -> pa.Check:
        return pa.Check(lambda data: data.lazyframe.select(self.test(pl.col(data.key))), error=self.error)


def _is_json(col: pl.Expr) -> pl.Expr:
    return col.is_null() | col.str.json_path_match("$").is_not_null()


def _instant(value: dt.datetime) -> pl.Expr:
    """A datetime literal made from its microseconds since 1970 (as the typed columns hold it):
    polars takes 0.2 ms to convert an aware datetime, a tenth of an unchanged table's run."""
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC if value.tzinfo else None)
    micros = (value - epoch) // dt.timedelta(microseconds=1)
    return pl.lit(micros, dtype=pl.Int64).cast(pl.Datetime("us", "UTC" if value.tzinfo else None))


def _rules(column, now: dt.datetime) -> list[Rule]:
    rules = []

    def isin(values, error: str) -> None:
        allowed = list(values)
        rules.append(Rule(lambda col: col.is_in(allowed), error))

    def in_range(low, high, error: str) -> None:
        if isinstance(low, dt.datetime):
            low, high = _instant(low), _instant(high)
        rules.append(Rule(lambda col: (col >= low) & (col <= high), error))

    def at_most_chars(limit: int, error: str) -> None:
        rules.append(Rule(lambda col: col.str.len_chars() <= limit, error))

    if column.values:
        isin(column.values, f"unknown value (allowed: {'|'.join(column.values)})")
    if column.semantic is Semantic.COUNTRY:
        isin(sorted(ISO_COUNTRIES), "not an ISO 3166 country code")
    if column.semantic is Semantic.GERMAN_LAND:
        isin(sorted(GERMAN_LANDS), "not a German Land code")
    match column.type:
        case ColumnType.TEXT:
            at_most_chars(MAX_TEXT, f"text longer than {MAX_TEXT} characters")
        case ColumnType.JSON_TEXT | ColumnType.JSONB:
            at_most_chars(MAX_JSON, f"JSON longer than {MAX_JSON} characters")
            rules.append(Rule(_is_json, NOT_JSON))
        case ColumnType.UUID:
            rules.append(Rule(lambda col: col.str.contains(UUID_PATTERN), "not a UUID"))
        case ColumnType.TIMESTAMPTZ:
            latest = now + (PLANNING_HORIZON if column.planned else FUTURE_TOLERANCE)
            in_range(EARLIEST_INSTANT, latest, "implausible timestamp")
        case ColumnType.TIMESTAMP:
            latest = (now + FUTURE_TOLERANCE).replace(tzinfo=None)
            in_range(EARLIEST_INSTANT.replace(tzinfo=None), latest, "implausible timestamp")
        case ColumnType.DATE:
            in_range(EARLIEST_DATE, LATEST_DATE, "implausible date")
    return rules


class TableValidator:
    """The pandera schema of a table and its pre-screen: every rule, nullability and dtype of the
    schema in one polars query. A batch that passes the pre-screen passes pandera; one that does
    not is validated by pandera, which words the reasons. The schema is built when first needed
    (it costs several milliseconds; most batches of an incremental run are clean)."""

    def __init__(self, spec: Table, now: dt.datetime) -> None:
        self.spec = spec
        self.rules = {c.name: _rules(c, now) for c in spec.columns}
        self.nullable = {c.name: c.nullable and c.name not in spec.primary_key for c in spec.columns}
        self.dtypes = {c.name: c.type.polars_type for c in spec.columns} | {ROW: pl.UInt32()}
        screen = []  # one boolean per rule and per non-nullable column: true when every row passes
        for name, rules in self.rules.items():
            col = pl.col(name)
            if not self.nullable[name]:
                screen.append(col.is_not_null().all())
            screen.extend(r.test(col).all() for r in rules)  # all() skips nulls: a null outcome passes
        screen.append(pl.col(ROW).is_not_null().all())
        self.screen = [e.alias(f"rule{i}") for i, e in enumerate(screen)]

    @functools.cached_property
    def schema(self) -> pa.DataFrameSchema:
        columns = {
            name: pa.Column(self.dtypes[name], nullable=self.nullable[name], checks=[r.check() for r in rules])
            for name, rules in self.rules.items()
        }
        columns[ROW] = pa.Column(pl.UInt32)
        return pa.DataFrameSchema(columns, name=self.spec.qualified_name, strict=True, ordered=False)

    def passes(self, typed: pl.DataFrame) -> bool:
        if dict(typed.schema) != self.dtypes:
            return False  # a missing, extra or differently typed column: pandera says which
        return all(typed.select(self.screen).row(0))


def table_validator(spec: Table, now: dt.datetime | None = None) -> TableValidator:
    """The pandera schema of one contract table and its pre-screen; `now` bounds plausible timestamps."""
    return TableValidator(spec, now or dt.datetime.now(dt.UTC))


def table_schema(spec: Table, now: dt.datetime | None = None) -> pa.DataFrameSchema:
    """The pandera schema of one contract table; `now` bounds plausible timestamps."""
    return table_validator(spec, now).schema


def find_problems(schema: pa.DataFrameSchema | TableValidator, spec: Table, typed: pl.DataFrame) -> pl.DataFrame:
    """(ROW, reason) for every failed check of every row; with a `TableValidator`, a batch that
    passes its pre-screen skips pandera (a fixed ~20 ms a batch, whatever its size)."""
    if isinstance(schema, TableValidator):
        if schema.passes(typed):
            return pl.DataFrame(schema={ROW: pl.UInt32, "reason": pl.String})
        schema = schema.schema
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
