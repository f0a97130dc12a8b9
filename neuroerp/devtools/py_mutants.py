"""Mutation testing of the Python packages: which packages, which tests, which mutants count.

The mutants themselves come from mutmut 3 (`bench/mutation_python.py` drives it in a scratch copy).
This module holds what is ours and can be tested without running it:

- `PACKAGES`: per package, the modules mutated, the modules left out (with the reason) and the test
  files mutmut's per-function test selection starts from (its stats run maps each function to the
  tests that call it; a mutant then runs only those tests);
- the noise filter: mutants no test should have to kill. Exception messages (a whole `raise`
  statement's arguments; the condition that leads to the `raise` is still mutated), logging and
  `print` lines are not mutated at all (`NOISE_LINES`, mutmut's `do_not_mutate_patterns`); a mutant
  that only changes the letter case of an SQL statement without a quoted literal is dropped
  (`is_noise`: SQL keywords and unquoted identifiers ignore case, so it is equivalent by
  construction). mutmut itself leaves type annotations, docstrings and decorated functions alone;
- `kind_of`: a label for each mutant from its diff (comparison, boolean, arithmetic, number,
  constant, string, argument, assignment, keyword), for the score per kind;
- `sample`: a fixed-seed sample where a package has more mutants than the run can afford;
- `EQUIVALENT`: survivors shown to be equivalent, each with its reason (the score leaves them out).
"""

from __future__ import annotations

import difflib
import json
import math
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Package:
    name: str
    tests: tuple[str, ...]  # test files or folders the stats run collects
    skip: dict[str, str] = field(default_factory=dict)  # module file name → why it is not mutated

    @property
    def folder(self) -> str:
        return f"neuroerp/{self.name}"


PACKAGES: dict[str, Package] = {
    p.name: p
    for p in [
        Package("ingest", ("tests/ingest",)),
        Package("sqlmodels", ("tests/sqlmodels",)),
        Package(
            "compliance",
            (
                "tests/compliance/test_cases.py",
                "tests/compliance/test_case_lifecycle.py",
                "tests/compliance/test_fingerprints.py",
                "tests/compliance/test_independent_areas.py",
                "tests/compliance/test_scores.py",
            ),  # fmt: skip
            {"engine.py": "the run outside Dagster, a harness for tests and benchmarks; its steps are the assets' own"},
        ),
        Package(
            "events",
            # not test_daemon_refresh.py: the daemon runs the code in its own processes, where the
            # stats run cannot see which test calls what, and it takes 80 s a mutant
            tuple(
                f"tests/events/test_{name}.py"
                for name in ("alerts", "health_marts", "outbox_cursor", "outbox_sensor", "routes", "simulate")
            ),  # fmt: skip
            {"simulate.py": "the ERP simulator, a development tool"},
        ),
        Package("finance", ("tests/finance",), {"synthetic.py": "synthetic benchmark instances, test data"}),
        Package("inventory", ("tests/inventory",)),
        Package("search", ("tests/search",)),
        Package(
            "report", ("tests/report",), {"charts.py": "matplotlib drawing; the PDF test checks pages, not pixels"}
        ),
    ]
}

# Lines (and the whole statements that start on them) mutmut does not mutate: messages, not logic.
NOISE_LINES = [
    r"^\s*raise\b",  # an exception's message; the condition that raises is mutated
    r"^\s*(log|logger|context\.log)\.\w+\(",  # logging
    r"^\s*warnings\.warn\(",
    r"^\s*print\(",
]
NOISE_DESCRIPTION = (
    "exception messages (the arguments of a `raise`), logging, warnings and print lines are not mutated; "
    "mutants that only change the letter case of an SQL statement without a quoted literal are dropped "
    "(equivalent by construction); mutmut leaves type annotations, docstrings and decorated functions alone"
)

COMPARISONS = {"==", "!=", "<", "<=", ">", ">=", "is", "is not", "in", "not in"}
ARITHMETIC = {"+", "-", "*", "/", "//", "%", "**", "+=", "-=", "*=", "/=", "//=", "%=", "=", "&", "|", "^"}


def mutmut_config(package: Package, also_copy: list[str]) -> str:
    """The `[tool.mutmut]` table for one package, appended to the scratch copy's pyproject.toml."""
    lines = [
        "",
        "[tool.mutmut]",
        'source_paths = ["neuroerp/"]',
        f"only_mutate = {json.dumps([f'{package.folder}/*'])}",
        f"do_not_mutate = {json.dumps([f'{package.folder}/{name}' for name in sorted(package.skip)])}",
        f"do_not_mutate_patterns = {json.dumps(NOISE_LINES)}",
        f"also_copy = {json.dumps(also_copy)}",
        f"pytest_add_cli_args_test_selection = {json.dumps(list(package.tests))}",
        'pytest_add_cli_args = ["-p", "no:cacheprovider"]',
        "use_git_change_detection = false",
        # mutmut's default forks each mutant from the process that ran the tests, whose threads
        # (DuckDB, LanceDB's runtime, psycopg pools) can hold locks at fork time: mutants then hang
        # into timeouts that pass for kills. A fork server that has only collected the tests is safe.
        'process_isolation = "forkserver"',
        'forkserver_warmup = "collect"',
        "",
    ]
    return "\n".join(lines)


def changed_lines(diff: str) -> tuple[list[str], list[str]]:
    """The removed and the added lines of a unified diff (without the file header)."""
    removed = [line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    return removed, added


def _tokens(text: str) -> list[str]:
    return re.findall(r"[rbfu]*'(?:[^'\\]|\\.)*'|[rbfu]*\"(?:[^\"\\]|\\.)*\"|\w+|[^\s\w'\"]+|['\"]", text)


def change_of(diff: str) -> tuple[str, str]:
    """The smallest differing token run: (old, new), e.g. ('>=', '>')."""
    removed, added = changed_lines(diff)
    old, new = _tokens(" ".join(removed)), _tokens(" ".join(added))
    ops = [op for op in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes() if op[0] != "equal"]
    if not ops:
        return "", ""
    first, last = ops[0], ops[-1]
    return " ".join(old[first[1] : last[2]]), " ".join(new[first[3] : last[4]])


def _is_string(token: str) -> bool:
    return bool(re.match(r"[rbfu]*['\"]", token))


def kind_of(diff: str) -> str:
    old, new = change_of(diff)
    removed, _ = changed_lines(diff)
    if old in COMPARISONS and new in COMPARISONS or (not old and new == "not"):
        return "comparison"  # == ↔ !=, < ↔ <=, in ↔ not in, is ↔ is not
    if old == "not" and not new and re.search(r"\b(not in|is not)\b", " ".join(removed)):
        return "comparison"
    if {old, new} <= {"and", "or"} or (old == "not" and not new) or re.search(r"\) (or True|and False)$", new):
        return "boolean"
    if old in ARITHMETIC and new in ARITHMETIC:
        return "arithmetic"
    if re.fullmatch(r"[\d_.]+", old) and re.fullmatch(r"[\d_.]+", new):
        return "number"
    if {old, new} <= {"True", "False", "deepcopy", "copy"}:
        return "constant"
    if old in {"break", "continue"}:
        return "keyword"
    if _is_string(old) and _is_string(new):
        return "string"  # XX…XX around it, or its letter case changed
    if new in {"None", '""'}:
        _, added = changed_lines(diff)
        return "assignment" if any(re.search(r"[^=!<>]=\s*(None|\"\")$", line) for line in added) else "argument"
    if not new or new.startswith("None") or len(new) < len(old):
        return "argument"  # an argument replaced by None or left out of a call
    return "other"  # a method swapped (lower ↔ upper, removeprefix ↔ removesuffix, …)


SQL_KEYWORDS = frozenset(
    "ALL AND AS ASC BEGIN BETWEEN BIGINT BOOLEAN BY CASE CAST COALESCE COMMIT CONFLICT COUNT CREATE DATE DECIMAL "
    "DELETE DESC DISTINCT DO DOUBLE DROP ELSE END EXCEPT EXISTS FALSE FROM GROUP HAVING IF IN INNER INSERT INTEGER "
    "INTO IS JOIN JSON LEFT LIMIT MAX MIN NOT NOTHING NULL ON OR ORDER OVER PARTITION REPLACE ROLLBACK SCHEMA SELECT "
    "SET SUM TABLE TEMP THEN TIMESTAMP TIMESTAMPTZ TRANSACTION TRUE UNION UPDATE USING UUID VALUES VARCHAR VIEW WHEN "
    "WHERE WITH".split()
)


def is_noise(diff: str) -> bool:
    """A mutant equivalent by construction: an SQL text lower-cased, whose only capitals are SQL
    keywords (both databases read keywords in any case) and which quotes nothing. Upper-casing is
    not noise: it renames the result's columns in DuckDB, and `'open'` → `'OPEN'` matters."""
    old, new = change_of(diff)
    if not (_is_string(old) and _is_string(new)) or old == new or new != old.lower():
        return False
    text = old.lstrip("rbfu")[1:-1]
    capitals = set(re.findall(r"\b[A-Z][A-Z_0-9]*\b", text))
    return bool(capitals) and capitals <= SQL_KEYWORDS and "'" not in text and '"' not in text


def sample(names: list[str], size: int, seed: int = 18) -> list[str]:
    """`size` of the names (all when size is 0 or covers them), the same for the same input."""
    ordered = sorted(names)
    if not size or size >= len(ordered):
        return ordered
    return sorted(random.Random(seed).sample(ordered, size))


def wilson(killed: int, judged: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % interval of a sampled score (Wilson), so a sample's figure says how sure it is."""
    if judged == 0:
        return 0.0, 1.0
    p = killed / judged
    centre = (p + z * z / (2 * judged)) / (1 + z * z / judged)
    half = z * math.sqrt(p * (1 - p) / judged + z * z / (4 * judged * judged)) / (1 + z * z / judged)
    return max(0.0, centre - half), min(1.0, centre + half)


def function_of(mutant_name: str) -> str:
    """`neuroerp.events.outbox.xǁOutboxCursorǁto_json__mutmut_3` → `outbox.OutboxCursor.to_json`."""
    base = mutant_name.rsplit("__mutmut_", 1)[0]
    module, _, mangled = base.rpartition(".")
    if mangled.startswith("x_"):
        name = mangled[2:]
    else:
        name = ".".join(part for part in mangled.split("ǁ")[1:] if part)
    return f"{module.rpartition('.')[2]}.{name}"


# Survivors shown to be equivalent: (function, the changed text old → new) → why no test can tell.
_BELOW_HORIZON = (
    "the query also demands fx >= horizon, so a keyset that starts anywhere below the horizon (with any id) "
    "admits the same rows"
)
_TARGET_CHOSEN_LATER = (
    "the first target is replaced when the read's staging is decided (`start`), before any row is written; "
    "until then its name is never used"
)
_MIP_START = (
    "a MIP start only helps HiGHS search: it checks the given solution and drops an infeasible one, and the plan "
    "it returns is the optimum (or the best within the time limit) either way"
)
EQUIVALENT: dict[tuple[str, str], str] = {
    ("solver._start", " → not"): _MIP_START,
    ("solver._start", "0 → 1"): _MIP_START,
    ("solver._deferred", "reverse = True → "): _MIP_START + " (the deferred plan is only stage 1's start)",
    ("solver._build", "np . int32 → None"): (
        "highspy converts the index array to HiGHS's 32-bit HighsInt when it is assigned; the dtype only saves a copy"
    ),
    ("payment_run.run_payments", "False → None"): "json.dumps reads ensure_ascii as a truth value: None is False",
    ("store.IngestStore.__init__", '"ok" → None'): _TARGET_CHOSEN_LATER,
    ("store.IngestStore.__init__", '"ok" → "OK"'): _TARGET_CHOSEN_LATER,
    ("store.IngestStore.reconcile", '"source_keys" → "XXsource_keysXX"'): (
        "only the scratch table's name: any name that no other scratch table of the run uses works the same"
    ),
    ("store.IngestStore.add", "pl . CompatLevel . oldest ())) → None ))"): (
        "DuckDB reads polars' newest Arrow layout (string views) to the same values; the oldest level only keeps "
        "older DuckDB versions working"
    ),
    (
        "cases.find_case",
        '"WHERE starts_with(case_id, ?) ORDER BY case_id LIMIT 6" → '
        '"WHERE STARTS_WITH(CASE_ID, ?) ORDER BY CASE_ID LIMIT 6"',
    ): ("DuckDB reads function and column names in any case, and these name no result column"),
    (
        "cases.find_case",
        "\"SELECT count(*) FROM information_schema.tables WHERE table_schema = 'compliance' AND "
        "table_name = 'cases'\" → \"select count(*) from information_schema.tables where "
        "table_schema = 'compliance' and table_name = 'cases'\"",
    ): (
        "only SQL keywords change case; the quoted names are untouched (the noise filter leaves statements with "
        "quotes to be judged one by one)"
    ),
    ("index._arrow_rows", 'pa . timestamp ( "us" , tz = "UTC" )), → None ),'): (
        "pyarrow infers timestamp[us, tz=UTC] from the UTC datetimes it is given: the same type, written explicitly"
    ),
    ("data._rows", "True → None"): (
        "the names come from the same cursor's description as the rows, so they always have the same length"
    ),
    ("render._environment", "True → False"): (
        "trim_blocks only drops the newline after a template tag; HTML collapses that whitespace, so the page and "
        "its PDF read the same"
    ),
    ("ledger.entry_hash", '"utf-8" → "UTF-8"'): "Python's codec names are case-insensitive: the same bytes",
    ("ledger.DecisionLedger.verify", "True → None"): (
        "an unreadable line still takes a line number, so the next entry fails its seq or chain check and ends the "
        "intact count anyway; after the last line nothing is counted"
    ),
    ("plan._replace", '"_frame" → "_FRAME"'): "DuckDB matches names case-insensitively: _frame and _FRAME are one view",
    ("policy.packs_up", "> → >="): "for a quantity of 0 both branches give 0: ceil(0 / pack - EPS) * pack is 0",
    ("forecast.forecast_models", "0 → 1"): (
        "with no series the groups index nothing: one all-zero group or none, the forecast rows are empty either way"
    ),
    ("runner.build", 'f"DROP {leftover.upper()} {schema}.{staging}" → f"DROP {leftover.lower()} {schema}.{staging}"'): (
        "SQL keywords are case-insensitive: DROP view and DROP VIEW are the same statement"
    ),
    ("outbox._pg_params", "1 → 2"): _BELOW_HORIZON,
    ("outbox._pg_params", '"" → "XXXX"'): _BELOW_HORIZON,
    ("outbox._sqlite_connect", "True → None"): (
        "the SQLite library Python links here is built with SQLITE_USE_URI, so a `file:` name is read as a URI "
        "(read-only, as asked) with or without uri=True; the flag stays for builds without it"
    ),
}


def equivalence_of(mutant_name: str, diff: str) -> str | None:
    old, new = change_of(diff)
    return EQUIVALENT.get((function_of(mutant_name), f"{old} → {new}"))


def list_mutants(with_diffs: bool = True) -> None:
    """Run in the scratch copy (cwd), after mutmut made its mutants: every mutant with its status
    (and diff), as JSON on stdout. Uses mutmut 3.8.1's own records (the `.meta` files)."""
    from mutmut.__main__ import SourceFileMutationData, get_diff_for_mutant, walk_mutatable_files
    from mutmut.stats import status_by_exit_code

    rows = []
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for name, code in data.exit_code_by_key.items():
            diff = get_diff_for_mutant(name, path=path) if with_diffs else ""
            rows.append({"name": name, "status": status_by_exit_code[code], "diff": diff})
    json.dump(rows, sys.stdout)


def generate_mutants() -> None:
    """Run in the scratch copy (cwd): copy the sources to `mutants/` and write every mutant, as
    `mutmut run` does first, without running a test."""
    from mutmut.__main__ import copy_also_copy_files, copy_src_dir, create_mutants, set_mutant_under_test

    set_mutant_under_test("mutant_generation")
    Path("mutants").mkdir(exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    create_mutants(1)


if __name__ == "__main__":
    {"generate": generate_mutants, "list": list_mutants, "status": lambda: list_mutants(False)}[sys.argv[1]]()
