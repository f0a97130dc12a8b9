"""SQL models: one `.sql` file per DuckDB relation, with their tests, read from a folder.

    dbt_like_sql/<schema>/<name>.sql  ->  relation <schema>.<name>

Each file may open with a YAML header in a block comment (or have a sidecar `<name>.yml`):

    /* ---
    description: Current customers, one row per customer.
    owner: team:analytics
    materialized: view            # or table (default)
    tests:
      - unique: customer_id
      - not_null: [customer_id, tenant_id]
      - accepted_values: {column: customer_type, values: [farm, private]}
      - relationships: {column: customer_id, to: staging.customers, field: customer_id}
      - expression: {name: no_negative_stock, sql: "select * from {{ this }} where on_hand < 0", severity: warn}
    --- */
    select ...

Dependencies come from parsing the SQL with sqlglot: every table a query reads (not its CTEs)
must be a raw table, another model, or a known warehouse relation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
import yaml
from sqlglot import exp
from sqlglot.errors import ParseError
from sqlglot.optimizer.scope import traverse_scope

HEADER = re.compile(r"\A\s*/\*\s*---\s*\n(?P<yaml>.*?)\n\s*---\s*\*/", re.S)
TEST_KINDS = ("unique", "not_null", "accepted_values", "relationships", "expression")
SEVERITIES = ("error", "warn")
NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class ModelError(Exception):
    """A model cannot be loaded; the message starts with `file:line:col:`."""


@dataclass(frozen=True)
class Reference:
    schema: str
    name: str
    line: int
    col: int

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class ModelTest:
    name: str
    kind: str
    severity: str
    sql: str  # returns the failing rows
    description: str


@dataclass
class Model:
    schema: str
    name: str
    path: Path
    sql: str
    materialized: str = "table"
    description: str = ""
    owner: str | None = None
    tags: list[str] = field(default_factory=list)
    tests: list[ModelTest] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    test_dependencies: list[str] = field(default_factory=list)  # relations that relationship tests read

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def upstream(self) -> list[str]:
        return list(dict.fromkeys([r.relation for r in self.references] + self.test_dependencies))


def _where(path: Path, line: int = 1, col: int = 1) -> str:
    return f"{path}:{line}:{col}"


def _header(path: Path, text: str) -> tuple[dict, str]:
    sidecar = path.with_suffix(".yml")
    match = HEADER.match(text)
    if match and sidecar.exists():
        raise ModelError(f"{_where(path)}: model has both a header block and {sidecar.name}; keep one")
    raw, body = ({}, text)
    try:
        if match:
            raw = yaml.safe_load(match.group("yaml")) or {}
            # keep the header's lines so that line numbers in the body stay true
            body = "\n" * match.group(0).count("\n") + text[match.end() :]
        elif sidecar.exists():
            raw = yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line + 2) if mark is not None and match else 1
        raise ModelError(f"{_where(path if match else sidecar, line)}: invalid YAML header: {exc}") from None
    if not isinstance(raw, dict):
        raise ModelError(f"{_where(path)}: the header must be a mapping")
    return raw, body


def _test_list(path: Path, relation: str, raw: list) -> tuple[list[ModelTest], list[str]]:
    tests, deps = [], []
    if not isinstance(raw, list):
        raise ModelError(f"{_where(path)}: tests must be a list")
    for item in raw:
        if not isinstance(item, dict) or len(item) != 1:
            raise ModelError(f"{_where(path)}: each test is one mapping like '- unique: customer_id', got {item!r}")
        ((kind, args),) = item.items()
        if kind not in TEST_KINDS:
            raise ModelError(f"{_where(path)}: unknown test {kind!r} (one of {', '.join(TEST_KINDS)})")
        severity = args.get("severity", "error") if isinstance(args, dict) else "error"
        if severity not in SEVERITIES:
            raise ModelError(f"{_where(path)}: severity must be error or warn, got {severity!r}")
        try:
            built, dep = _build_test(kind, args, relation, severity)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{_where(path)}: test {kind}: missing or wrong argument {exc}") from None
        tests += built
        deps += dep
    names = [t.name for t in tests]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise ModelError(f"{_where(path)}: tests with the same name {sorted(duplicated)}")
    return tests, deps


def _columns(args, key: str = "column") -> list[str]:
    value = args[key] if isinstance(args, dict) else args
    return [value] if isinstance(value, str) else list(value)


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _build_test(kind: str, args, relation: str, severity: str) -> tuple[list[ModelTest], list[str]]:
    if kind == "unique":
        cols = _columns(args)
        listed = ", ".join(_q(c) for c in cols)
        sql = f"SELECT {listed}, count(*) AS n FROM {relation} GROUP BY {listed} HAVING count(*) > 1"
        return [ModelTest(f"unique_{'_'.join(cols)}", kind, severity, sql, f"{' + '.join(cols)} is unique")], []
    if kind == "not_null":
        return [
            ModelTest(f"not_null_{c}", kind, severity, f"SELECT * FROM {relation} WHERE {_q(c)} IS NULL",
                      f"{c} is never null")
            for c in _columns(args)
        ], []  # fmt: skip
    if kind == "accepted_values":
        col, values = args["column"], list(args["values"])
        listed = ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)
        sql = f"SELECT * FROM {relation} WHERE {_q(col)} IS NOT NULL AND CAST({_q(col)} AS VARCHAR) NOT IN ({listed})"
        return [ModelTest(f"accepted_values_{col}", kind, severity, sql, f"{col} is one of {values}")], []
    if kind == "relationships":
        col, to, parent = args["column"], args["to"], args.get("field", args["column"])
        sql = (
            f"SELECT c.* FROM {relation} c WHERE c.{_q(col)} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {to} p WHERE p.{_q(parent)} = c.{_q(col)})"
        )
        return [ModelTest(f"relationships_{col}", kind, severity, sql, f"every {col} is a {to}.{parent}")], [to]
    name = args["name"]
    if not NAME.match(name):
        raise ValueError(f"name {name!r} (lowercase letters, digits, underscores)")
    sql = args["sql"].replace("{{ this }}", relation).replace("{{this}}", relation)
    return [ModelTest(name, kind, severity, sql, args.get("description", f"{name} returns no rows"))], []


def _references(path: Path, body: str) -> list[Reference]:
    try:
        tree = sqlglot.parse(body, read="duckdb")
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        raise ModelError(
            f"{_where(path, first.get('line', 1), first.get('col', 1))}: syntax error: "
            f"{first.get('description', str(exc))}"
        ) from None
    statements = [t for t in tree if t is not None]
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise ModelError(f"{_where(path)}: a model is exactly one SELECT statement")
    refs = []
    for scope in traverse_scope(statements[0]):
        for source in scope.sources.values():
            if not isinstance(source, exp.Table) or not isinstance(source.this, exp.Identifier):
                continue  # CTEs, subqueries and table functions are not dependencies
            meta = source.this.meta
            if not source.db:
                raise ModelError(
                    f"{_where(path, meta.get('line', 1), meta.get('col', 1))}: table {source.name!r} needs its "
                    "schema (raw.<table>, staging.<model>, ...)"
                )
            refs.append(Reference(source.db, source.name, meta.get("line", 1), meta.get("col", 1)))
    return refs


def read_model(path: Path, root: Path) -> Model:
    relative = path.relative_to(root)
    if len(relative.parts) != 2:
        raise ModelError(f"{_where(path)}: models live in <schema>/<name>.sql, one folder deep")
    schema, name = relative.parts[0], relative.stem
    for part in (schema, name):
        if not NAME.match(part):
            raise ModelError(f"{_where(path)}: {part!r} is not a usable schema or model name (a-z, 0-9, _)")
    text = path.read_text(encoding="utf-8")
    header, body = _header(path, text)
    unknown = set(header) - {"description", "owner", "materialized", "tags", "tests"}
    if unknown:
        raise ModelError(f"{_where(path)}: unknown header keys {sorted(unknown)}")
    materialized = header.get("materialized", "table")
    if materialized not in ("table", "view"):
        raise ModelError(f"{_where(path)}: materialized must be table or view, got {materialized!r}")
    tests, deps = _test_list(path, f"{schema}.{name}", header.get("tests", []))
    return Model(
        schema=schema,
        name=name,
        path=path,
        sql=body.strip().rstrip(";"),
        materialized=materialized,
        description=str(header.get("description", "")).strip(),
        owner=header.get("owner"),
        tags=list(header.get("tags", [])),
        tests=tests,
        references=_references(path, body),
        test_dependencies=deps,
    )


RESERVED_SCHEMAS = frozenset({"raw", "quarantine", "ops", "scratch", "reference"})


def load_models(root: Path, external: set[str], reserved: frozenset[str] = RESERVED_SCHEMAS) -> list[Model]:
    """Every model under root, in dependency order.

    `external`: relations that exist without a model (written by the ingest or by Python assets);
    `reserved`: schemas that only those write.
    """
    models = [read_model(p, root) for p in sorted(root.glob("*/*.sql"))]
    by_relation = {m.relation: m for m in models}
    for m in models:
        if m.schema in reserved:
            raise ModelError(
                f"{_where(m.path)}: schema {m.schema!r} is written by the pipeline itself; choose another folder"
            )
        if m.relation in external:
            raise ModelError(f"{_where(m.path)}: {m.relation} is written by a Python asset; name the model differently")
        for ref in m.references:
            if ref.relation not in by_relation and ref.relation not in external:
                raise ModelError(
                    f"{_where(m.path, ref.line, ref.col)}: {ref.relation} does not exist "
                    "(not a raw table, another model or a known warehouse relation)"
                )
        for dep in m.test_dependencies:
            if dep not in by_relation and dep not in external:
                raise ModelError(f"{_where(m.path)}: relationships test points to unknown {dep}")
    return _ordered(models, by_relation)


def _ordered(models: list[Model], by_relation: dict[str, Model]) -> list[Model]:
    done: dict[str, Model] = {}

    def visit(m: Model, path: list[Model]) -> None:
        if m.relation in done:
            return
        if m in path:
            cycle = path[path.index(m) :] + [m]
            chain = " -> ".join(f"{x.relation} ({x.path})" for x in cycle)
            raise ModelError(f"{_where(m.path)}: dependency cycle: {chain}")
        for upstream in m.upstream:
            if upstream in by_relation:
                visit(by_relation[upstream], [*path, m])
        done[m.relation] = m

    for m in models:
        visit(m, [])
    return list(done.values())
