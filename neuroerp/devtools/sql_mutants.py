"""Small, realistic bugs planted in a SQL rule, one at a time: the mutants of mutation testing.

A rule's test suite is worth the bugs it catches. Each mutant changes one spot of the rule's
SELECT, the way a tired author would:

- `boundary`: a comparison loses or gains its edge (`>=` ↔ `>`, `<=` ↔ `<`), `=` ↔ `<>`;
- `logic`: an `and` becomes `or`, or the other way;
- `drop`: one predicate of a conjunction in a WHERE, ON or HAVING is left out;
- `shift`: an interval constant moves by one unit (`interval 24 hour` → 23 and 25 hours), and so
  does a number a comparison judges against (`>= 16` → 15 and 17).

The model's YAML header is kept as it is; only the body is re-rendered (by sqlglot, DuckDB dialect).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from neuroerp.sqlmodels.models import HEADER

FLIPS: dict[type[exp.Expression], type[exp.Expression]] = {
    exp.GTE: exp.GT,
    exp.GT: exp.GTE,
    exp.LTE: exp.LT,
    exp.LT: exp.LTE,
    exp.EQ: exp.NEQ,
    exp.NEQ: exp.EQ,
}
COMPARISONS = tuple(FLIPS)
FILTERS = (exp.Where, exp.Join, exp.Having)


@dataclass(frozen=True)
class Mutant:
    kind: str  # boundary, logic, drop or shift
    description: str  # what changed, as SQL: "l.order_date >= s.issued_on → l.order_date > s.issued_on"
    text: str  # the whole model file, header included


def split_model(text: str) -> tuple[str, str]:
    """The header block (with its trailing newline) and the SQL body."""
    match = HEADER.match(text)  # the model loader's own pattern of the header block
    if not match:
        return "", text
    end = match.end() + text[match.end() :].startswith("\n")
    return text[:end], text[end:]


def render(tree: exp.Expression) -> str:
    return tree.sql(dialect="duckdb", pretty=True) + "\n"


def mutants(text: str) -> Iterator[Mutant]:
    """Every mutant of a model file, in a stable order."""
    header, body = split_model(text)
    original = sqlglot.parse_one(body, read="duckdb")
    for index, node in enumerate(original.walk()):
        for kind, replacement, label in _replacements(node):
            copy = original.copy()
            target = _nth(copy, index)
            if target is copy:
                continue  # the statement itself is never replaced
            target.replace(replacement)
            label = label or f"{_shorten(node.sql(dialect='duckdb'))} → {_shorten(replacement.sql(dialect='duckdb'))}"
            yield Mutant(kind, label, header + render(copy))


def original_text(text: str) -> str:
    """The model re-rendered without a change: the baseline every mutant is compared with."""
    header, body = split_model(text)
    return header + render(sqlglot.parse_one(body, read="duckdb"))


def _nth(tree: exp.Expression, index: int) -> exp.Expression:
    for i, node in enumerate(tree.walk()):
        if i == index:
            return node
    raise IndexError(index)


def _replacements(node: exp.Expression) -> Iterator[tuple[str, exp.Expression, str | None]]:
    """(kind, the node's replacement, a label where the change itself does not say enough)."""
    if isinstance(node, COMPARISONS) and not _joins_columns(node):
        yield "boundary", FLIPS[type(node)](this=node.this.copy(), expression=node.expression.copy()), None
        for literal, shifted in _shifted_numbers(node):
            yield "shift", _with(node, literal, shifted), None
    if isinstance(node, exp.And | exp.Or):
        other = exp.Or if isinstance(node, exp.And) else exp.And
        flipped = exp.Paren(this=other(this=node.this.copy(), expression=node.expression.copy()))
        word = "or" if other is exp.Or else "and"
        yield (
            "logic",
            flipped,
            f"{_shorten(node.this.sql(dialect='duckdb'), 60)} ‹{word}› {_shorten(node.expression.sql(dialect='duckdb'), 60)}",
        )
    if isinstance(node, exp.And) and not isinstance(node.parent, exp.And) and isinstance(_filter_of(node), FILTERS):
        conjuncts = list(node.flatten())
        for dropped in range(len(conjuncts)):
            rest = exp.and_(*(c.copy() for i, c in enumerate(conjuncts) if i != dropped))
            yield "drop", rest, f"without {_shorten(conjuncts[dropped].sql(dialect='duckdb'))}"
    if isinstance(node, exp.Interval) and isinstance(node.this, exp.Literal):
        try:
            value = float(node.this.this)  # `interval 365 day` is read as the string '365'
        except ValueError:
            return
        for delta in (-1, 1):
            if value + delta >= 0:
                shifted = exp.Interval(this=exp.Literal.string(_format(value + delta)), unit=node.unit.copy())
                yield "shift", shifted, None


def _joins_columns(node: exp.Expression) -> bool:
    """`a.id = b.id`: a join key, whose flip only multiplies rows (slow, and no author's slip)."""
    return isinstance(node, exp.EQ | exp.NEQ) and all(
        isinstance(side, exp.Column) for side in (node.this, node.expression)
    )


def _filter_of(node: exp.Expression) -> exp.Expression | None:
    """The WHERE, ON or HAVING a conjunction belongs to, through nested ands and parentheses."""
    parent = node.parent
    while isinstance(parent, exp.And | exp.Paren):
        parent = parent.parent
    return parent


def _shifted_numbers(node: exp.Expression) -> Iterator[tuple[exp.Literal, exp.Literal]]:
    for side in (node.this, node.expression):
        if isinstance(side, exp.Literal) and _number(side) is not None:
            value = _number(side)
            step = 1 if float(value).is_integer() else 0.1
            for delta in (-step, step):
                yield side, exp.Literal.number(_format(round(value + delta, 6)))


def _with(node: exp.Expression, literal: exp.Literal, shifted: exp.Literal) -> exp.Expression:
    copy = node.copy()
    for candidate in copy.find_all(exp.Literal):
        if candidate == literal:
            candidate.replace(shifted)
            break
    return copy


def _number(literal: exp.Literal) -> float | None:
    if literal.is_string:
        return None
    try:
        return float(literal.this)
    except ValueError:
        return None


def _format(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _shorten(sql: str, width: int = 90) -> str:
    sql = " ".join(sql.split())
    return sql if len(sql) <= width else sql[: width - 1] + "…"


# Survivors shown to be equivalent: (rule, mutant description) → why no test can tell them apart.
# The score leaves them out; bench/mutation.py prints each with its reason.
EQUIVALENT: dict[tuple[str, str], str] = {
    ("ENNI-001", "d.reported_on > d.report_due → d.reported_on >= d.report_due"): (
        "the evidence's 'reported late' label: a report on its due day is no finding, so the label is never "
        "shown for it"
    ),
    ("EXP-003", "without NOT a.substance IS NULL"): (
        "a line without substance matches no peer group (the join `using (substance)` never matches null) and "
        "no own history (`h.substance = l.substance`), so it is never found either way"
    ),
    ("PSM-001", "without is_verified"): (
        "is_verified is `verified_at is not null`, and the rule also demands verified_at on or before the "
        "sale's day, which is false for null"
    ),
    ("PSM-007", "p.erp_authorized_until < p.register_authorized_until → p.erp_authorized_until <= p.register_authorized_until"): (
        "equal dates are already left out by `erp_authorized_until is distinct from register_authorized_until`"
    ),
    ("PSM-009", "without NOT pl.received_at IS NULL"): (
        "without a receipt the date comparison is null, which the WHERE drops just the same"
    ),
}  # fmt: skip
