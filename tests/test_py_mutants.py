"""The Python half of mutation testing (neuroerp/devtools/py_mutants.py): which mutants count,
how they are labelled, the sample. mutmut itself runs only in `scripts/bench mutation --python`.

Bad inputs tried: an SQL text upper-cased (renames DuckDB's result columns: kept) and one with a
quoted literal (kept), a lower-cased English message (kept), an empty sample size, a sample larger
than the population, a method's mutant name.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from neuroerp.devtools import py_mutants as pm
from neuroerp.devtools.py_mutants import is_noise, kind_of


def diff(old: str, new: str) -> str:
    return f"--- a.py\n+++ a.py\n@@ -1,1 +1,1 @@\n-    {old}\n+    {new}"


def test_each_mutant_is_labelled_by_what_it_changed():
    assert kind_of(diff("if a >= b:", "if a > b:")) == "comparison"
    assert kind_of(diff("if a in b:", "if a not in b:")) == "comparison"
    assert kind_of(diff("if a and b:", "if a or b:")) == "boolean"
    assert kind_of(diff("if not a:", "if a:")) == "boolean"
    assert kind_of(diff("x = a + 1", "x = a - 1")) == "arithmetic"
    assert kind_of(diff("x = a + 1", "x = a + 2")) == "number"
    assert kind_of(diff("f(a, strict=True)", "f(a, strict=False)")) == "constant"
    assert kind_of(diff('d["rule_id"]', 'd["XXrule_idXX"]')) == "string"
    assert kind_of(diff("x = compute(a)", "x = None")) == "assignment"
    assert kind_of(diff("f(a, b)", "f(a, None)")) == "argument"
    assert kind_of(diff("f(a, b)", "f(a, )")) == "argument"
    assert kind_of(diff("continue", "break")) == "keyword"


def test_only_a_lower_cased_sql_text_without_quotes_is_noise():
    assert is_noise(diff('conn.execute("SELECT as_of FROM compliance.settings")',
                         'conn.execute("select as_of from compliance.settings")'))  # fmt: skip
    assert not is_noise(diff('conn.execute("SELECT as_of FROM compliance.settings")',
                             'conn.execute("SELECT AS_OF FROM COMPLIANCE.SETTINGS")'))  # fmt: skip
    assert not is_noise(diff("q = \"WHERE status = 'OPEN'\"", "q = \"where status = 'open'\""))
    assert not is_noise(diff('why = "no delete statistics recorded"', 'why = "NO DELETE STATISTICS RECORDED"'))
    assert not is_noise(diff('why = "Keys compared"', 'why = "keys compared"'))  # a capital that is no keyword
    assert not is_noise(diff("if a >= b:", "if a > b:"))


def test_a_sample_is_the_same_every_time_and_all_when_it_would_cover_everything():
    names = [f"m{i}" for i in range(50)]
    assert pm.sample(names, 10) == pm.sample(list(reversed(names)), 10) and len(pm.sample(names, 10)) == 10
    assert pm.sample(names, 0) == pm.sample(names, 80) == sorted(names)
    low, high = pm.wilson(80, 100)
    assert 0.70 < low < 0.80 < high < 0.88 and pm.wilson(0, 0) == (0.0, 1.0)


def test_names_and_equivalents_are_found_by_function_and_change():
    assert pm.function_of("neuroerp.events.outbox.xǁOutboxCursorǁto_json__mutmut_3") == "outbox.OutboxCursor.to_json"
    assert pm.function_of("neuroerp.events.routes.x_plan__mutmut_16") == "routes.plan"
    pg = "neuroerp.events.outbox.x__pg_params__mutmut_4"
    assert pm.equivalence_of(
        pg, diff('after = c.after or (c.horizon - 1, "")', 'after = c.after or (c.horizon - 2, "")')
    )
    assert pm.equivalence_of(pg, diff("after = (h - 1)", "after = (h + 1)")) is None


def test_the_mutmut_table_is_valid_toml_for_every_package():
    for package in pm.PACKAGES.values():
        table = tomllib.loads(pm.mutmut_config(package, ["assets/"]))["tool"]["mutmut"]
        assert table["only_mutate"] == [f"neuroerp/{package.name}/*"]
        assert table["pytest_add_cli_args_test_selection"] == list(package.tests)
        assert table["process_isolation"] == "forkserver"
        assert all(path.startswith("neuroerp/") for path in table["do_not_mutate"])
        root = Path(__file__).resolve().parents[1]  # what the table names exists (no silent empty run)
        assert all((root / path).exists() for path in [*package.tests, *table["do_not_mutate"], package.folder])
