"""The fused pre-screen of the validation (one polars query per batch) against pandera itself.

A batch that passes the pre-screen skips pandera, so the pre-screen must fail exactly the rows
pandera fails. For every contract table, one frame holds a valid row, then one row per hostile
value of every column (each check kind: allowed values, ISO country, German Land, text length,
JSON length and syntax, UUID syntax, timestamp, naive timestamp and date ranges, a missing
required value or key), the boundary values that still pass, and random mixes of good, bad and
null values; each row is pre-screened alone and compared with the rows pandera fails. Frames
with a missing, extra or differently typed column never pass the pre-screen.
"""

import datetime as dt
import random
import uuid
from decimal import Decimal

import polars as pl
import pytest
from pandera.errors import SchemaErrors

from neuroerp.contract import GERMAN_LANDS, ColumnType, Semantic, load_order
from neuroerp.ingest.parsing import ROW
from neuroerp.ingest.validation import (
    EARLIEST_DATE,
    EARLIEST_INSTANT,
    FUTURE_TOLERANCE,
    LATEST_DATE,
    MAX_JSON,
    MAX_TEXT,
    PLANNING_HORIZON,
    find_problems,
    table_validator,
)
from neuroerp.reference.countries import ISO_COUNTRIES

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
US = dt.timedelta(microseconds=1)


def _values(column) -> tuple[list, list]:
    """(values that pass, values that fail) of one column's checks, nulls aside."""
    if column.values:
        return [column.values[0], column.values[-1]], ["bogus", column.values[0].upper() + "x"]
    if column.semantic is Semantic.COUNTRY:
        return ["DE", "AT"], ["Q1", "de"]
    if column.semantic is Semantic.GERMAN_LAND:
        return sorted(GERMAN_LANDS)[:2], ["XX"]
    match column.type:
        case ColumnType.TEXT:
            return ["Ackerbau", "x" * MAX_TEXT, ""], ["x" * (MAX_TEXT + 1)]
        case ColumnType.JSON_TEXT | ColumnType.JSONB:
            return ['{"a": [1, 2]}', "[]", '"x"'], ["{", "null", "a" * (MAX_JSON + 1), "{'a': 1}"]
        case ColumnType.UUID:
            return [str(uuid.UUID(int=7)), str(uuid.UUID(int=9)).upper()], ["not-a-uuid", str(uuid.UUID(int=7))[:-1]]
        case ColumnType.TIMESTAMPTZ:
            latest = NOW + (PLANNING_HORIZON if column.planned else FUTURE_TOLERANCE)
            return [EARLIEST_INSTANT, latest, NOW], [EARLIEST_INSTANT - US, latest + US]
        case ColumnType.TIMESTAMP:
            earliest, latest = EARLIEST_INSTANT.replace(tzinfo=None), (NOW + FUTURE_TOLERANCE).replace(tzinfo=None)
            return [earliest, latest], [earliest - US, latest + US]
        case ColumnType.DATE:
            return [EARLIEST_DATE, LATEST_DATE], [
                EARLIEST_DATE - dt.timedelta(days=1),
                LATEST_DATE + dt.timedelta(days=1),
            ]
        case ColumnType.BOOL:
            return [True, False], []
        case ColumnType.INT | ColumnType.BIGINT:
            return [1, -5], []
    return [Decimal("1.5"), Decimal("-2")], []  # numerics: only nullability is checked


def _hostile_frame(spec, rng: random.Random) -> tuple[pl.DataFrame, set[int]]:
    """A frame of the table's rows, and the rows that must fail (by construction)."""
    values = {c.name: _values(c) for c in spec.columns}
    required = {c.name for c in spec.columns if not c.nullable or c.name in spec.primary_key}
    base = {name: good[0] for name, (good, _) in values.items()}
    rows, failing = [base], set()
    for name, (good, bad) in values.items():
        for value in good[1:]:
            rows.append({**base, name: value})
        for value in bad:
            failing.add(len(rows))
            rows.append({**base, name: value})
        if name in required:
            failing.add(len(rows))
        rows.append({**base, name: None})
    for _ in range(40):  # random mixes: several columns off at once
        row, fails = {}, False
        for name, (good, bad) in values.items():
            pick = rng.random()
            if pick < 0.08:
                row[name], fails = None, fails or name in required
            elif pick < 0.16 and bad:
                row[name], fails = rng.choice(bad), True
            else:
                row[name] = rng.choice(good)
        failing.update([len(rows)] if fails else [])
        rows.append(row)
    frame = pl.DataFrame(rows, schema={c.name: c.type.polars_type for c in spec.columns}, orient="row")
    return frame.with_row_index(ROW).select(*spec.column_names, ROW), failing


def _pandera_fails(schema, frame: pl.DataFrame) -> set[int]:
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as errors:
        return set(errors.failure_cases["index"].to_list())
    return set()


@pytest.mark.parametrize("spec", load_order(), ids=lambda s: s.name)
def test_the_prescreen_fails_exactly_the_rows_pandera_fails(spec):
    validator = table_validator(spec, NOW)
    frame, failing = _hostile_frame(spec, random.Random(spec.name))
    assert _pandera_fails(validator.schema, frame) == failing  # the frame is built as intended
    screened = {i for i in range(frame.height) if not validator.passes(frame[i : i + 1])}
    assert screened == failing
    assert validator.passes(frame.filter(~pl.col(ROW).is_in(sorted(failing))))
    # a batch that fails the pre-screen gets pandera's reasons, word for word
    assert find_problems(validator, spec, frame).equals(find_problems(validator.schema, spec, frame))


def test_a_frame_that_passes_the_prescreen_has_no_problems_and_one_that_does_not_gets_pandera_reasons():
    spec = next(s for s in load_order() if s.name == "customers")
    validator = table_validator(spec, NOW)
    frame, failing = _hostile_frame(spec, random.Random(1))
    clean = frame.filter(~pl.col(ROW).is_in(sorted(failing)))
    assert find_problems(validator, spec, clean).height == 0
    reasons = find_problems(validator, spec, frame)
    assert set(reasons[ROW].to_list()) == failing
    country = next(c.name for c in spec.columns if c.semantic is Semantic.COUNTRY)
    assert f"{country}: not an ISO 3166 country code (got Q1)" in reasons["reason"].to_list()
    assert "Q1" not in ISO_COUNTRIES


@pytest.mark.parametrize("change", ["missing", "extra", "retyped"])
def test_a_frame_of_another_shape_never_passes_the_prescreen(change):
    spec = next(s for s in load_order() if s.name == "sales_order_lines")
    validator = table_validator(spec, NOW)
    frame, failing = _hostile_frame(spec, random.Random(2))
    clean = frame.filter(~pl.col(ROW).is_in(sorted(failing)))
    assert validator.passes(clean)
    numeric = next(c for c in spec.columns if c.type.numeric_precision)
    other = {
        "missing": clean.drop(spec.column_names[-1]),
        "extra": clean.with_columns(pl.lit(1).alias("surplus")),
        "retyped": clean.with_columns(pl.col(numeric.name).cast(pl.Decimal(38, numeric.type.numeric_precision[1]))),
    }[change]
    assert not validator.passes(other)
    with pytest.raises(ValueError, match="validation failed for the whole frame"):
        find_problems(validator, spec, other)
