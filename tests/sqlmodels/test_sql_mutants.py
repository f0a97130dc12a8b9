"""The SQL mutants of bench/mutation.py: one realistic slip at a time, the header untouched."""

from collections import Counter

import duckdb
import sqlglot

from neuroerp.devtools.sql_mutants import mutants, original_text, split_model

RULE = """/* ---
description: A made-up rule.
rule:
  id: T-001
--- */
select l.line_id as entity_id
from sales as l
join certificates as c on c.customer_id = l.customer_id
where l.went_ahead
    and l.quantity >= 16
    and c.valid_through >= l.ordered_on - interval 30 day
"""


def _descriptions(kind: str) -> list[str]:
    return sorted(m.description for m in mutants(RULE) if m.kind == kind)


def test_each_comparison_loses_or_gains_its_edge_but_join_keys_stay():
    assert _descriptions("boundary") == [
        "c.valid_through >= l.ordered_on - INTERVAL '30' DAY → c.valid_through > l.ordered_on - INTERVAL '30' DAY",
        "l.quantity >= 16 → l.quantity > 16",
    ]


def test_each_predicate_of_a_filter_is_dropped_once():
    assert _descriptions("drop") == [
        "without c.valid_through >= l.ordered_on - INTERVAL '30' DAY",
        "without l.quantity >= 16",
        "without l.went_ahead",
    ]


def test_thresholds_and_intervals_move_by_one_unit_both_ways():
    assert _descriptions("shift") == [
        "INTERVAL '30' DAY → INTERVAL '29' DAY",
        "INTERVAL '30' DAY → INTERVAL '31' DAY",
        "l.quantity >= 16 → l.quantity >= 15",
        "l.quantity >= 16 → l.quantity >= 17",
    ]


def test_every_mutant_keeps_the_header_and_is_one_valid_statement_that_differs():
    header, _ = split_model(RULE)
    found = list(mutants(RULE))
    assert Counter(m.kind for m in found) == {"boundary": 2, "drop": 3, "shift": 4, "logic": 2}
    baseline = split_model(original_text(RULE))[1]
    conn = duckdb.connect()
    conn.execute("create table sales (line_id int, customer_id int, went_ahead bool, quantity int, ordered_on date)")
    conn.execute("create table certificates (customer_id int, valid_through date)")
    for mutant in found:
        assert mutant.text.startswith(header)
        body = split_model(mutant.text)[1]
        assert body != baseline
        assert len(sqlglot.parse(body, read="duckdb")) == 1
        conn.execute(body).fetchall()  # binds and runs


def test_a_rule_that_only_selects_another_models_rows_is_mutated_through_that_model():
    """FIN-001's SQL only selects finance.skonto_after_window: its logic, and so its mutants, are
    there. FIN-002 reads a Python step's table: nothing of SQL to mutate, the rule's file stays."""
    from bench.mutation import rule_files

    files = {r.rule_id: r.path.as_posix() for r in rule_files()}
    assert files["FIN-001"] == "dbt_like_sql/finance/skonto_after_window.sql"
    assert files["FIN-002"] == "dbt_like_sql/compliance/fin_002_invalid_supplier_iban.sql"
    assert files["PSM-001"] == "dbt_like_sql/compliance/psm_001_no_sachkunde.sql"
    assert len(files) == 35


def test_every_survivor_explained_as_equivalent_is_a_mutant_of_that_rule_today():
    """A rule edited since its survivor was explained must have the explanation looked at again:
    an entry that no longer names one of the rule's mutants fails here instead of going stale."""
    from bench.mutation import ROOT, rule_files
    from neuroerp.devtools.sql_mutants import EQUIVALENT

    files = {r.rule_id: ROOT / r.path for r in rule_files()}
    for rule_id, description in EQUIVALENT:
        produced = {m.description for m in mutants(files[rule_id].read_text(encoding="utf-8"))}
        assert description in produced, (rule_id, description)
