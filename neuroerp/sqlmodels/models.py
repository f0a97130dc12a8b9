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

More header keys:

    columns: {customer_id: The customer's key, ...}     # column descriptions, shown in the UI
    vars: {as_of: The day the rules judge (YYYY-MM-DD)}  # run-time values, read with getvariable('as_of')
    rule: {id: PSM-001, area: psm, severity: critical, entity: sales_order_line, subject: customer,
           legal_basis: ..., recommendation: ...}
    union_of: rules                                      # `{{ rules }}` is every rule model of the folder
    quarantine:                                          # rows the model leaves out, with the reason
      - {name: revoked_before_granted, where: "revoked_at < granted_at", reason: revoked before it was granted}

A rule model's query returns only what it finds (entity_id, tenant_id, subject_id, evidence, and
subject_type where the header does not fix it); the loader wraps it in the projection every
finding shares (RULE_COLUMNS) and gives it the test every rule needs (entity_id unique), so rules
are written once and a new rule is one new file.

A `union_of: rules` model reads what its rules read, not the rule relations: the build evaluates
each rule on its own (a rule that fails is left out and recorded in `<schema>.rule_runs`, the
others go on), so one broken rule never holds the others' findings back.

`quarantine:` is for row-level problems of the source (a consent revoked before it was granted):
the rows its conditions match are left out of the model, kept with the reason in
`quarantine.model_rows` at every build, and reported by a warn check of the same name. Error
severity is for what makes the whole result wrong (a duplicate key, a broken join).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import sqlglot
import yaml
from sqlglot import exp
from sqlglot.errors import ParseError
from sqlglot.optimizer.scope import traverse_scope

RULE_COLUMNS = (
    "rule_id", "area", "severity", "entity_type", "entity_id", "tenant_id", "subject_type", "subject_id",
    "evidence", "legal_basis", "recommendation",
)  # fmt: skip
RULE_COLUMN_DESCRIPTIONS = {
    "rule_id": "The rule that found it (e.g. PSM-001).",
    "area": "Compliance area: psm, explosives, enni, traces, lksg, gdpr, gobd, finance.",
    "severity": "critical, high, medium or info.",
    "entity_type": "What one finding is about (a sales order line, an invoice, ...).",
    "entity_id": "Key of that entity in the ERP.",
    "tenant_id": "The tenant (company) the finding belongs to.",
    "subject_type": "The root cause the finding is judged on (the product, the customer, ...).",
    "subject_id": "Key of the subject in the ERP.",
    "evidence": "What the rule saw, as JSON.",
    "legal_basis": "The provision the rule enforces.",
    "recommendation": "What to do, in German, for the compliance officer.",
}
RULE_FIELDS = {"id", "area", "severity", "entity", "subject", "legal_basis", "recommendation"}
RULE_SEVERITIES = ("critical", "high", "medium", "info")
RULES_PLACEHOLDER = re.compile(r"\{\{\s*rules\s*\}\}")
VARIABLE = re.compile(r"getvariable\(\s*'([^']*)'\s*\)", re.I)
HEADER_KEYS = {
    "description", "owner", "materialized", "tags", "tests", "columns", "vars", "rule", "union_of", "quarantine",
}  # fmt: skip
THIS = "{{ this }}"
RULE_RUNS = "rule_runs"  # the relation, in the union's schema, that records each rule's outcome per build
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
    template: str  # returns the failing rows; {{ this }} stands for the relation under test
    description: str
    relation: str = ""

    @property
    def sql(self) -> str:
        return self.template.replace(THIS, self.relation)

    def on(self, relation: str) -> ModelTest:
        """The same test of another relation (e.g. a part of the model built on its own)."""
        return replace(self, relation=relation)


@dataclass(frozen=True)
class Quarantine:
    """Rows a model leaves out because they are wrong one by one: a condition and why."""

    name: str
    where: str  # SQL condition over the model's columns
    reason: str


@dataclass(frozen=True)
class Member:
    """A rule of a `union_of: rules` model: evaluated on its own, inside the union's build."""

    relation: str
    rule: Rule
    sql: str  # the rule's query with its shared projection


@dataclass(frozen=True)
class Rule:
    id: str
    area: str
    severity: str
    entity_type: str
    subject_type: str | None  # None: the query returns subject_type itself
    legal_basis: str
    recommendation: str


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
    columns: dict[str, str] = field(default_factory=dict)  # column descriptions
    variables: dict[str, str] = field(default_factory=dict)  # run-time values the SQL reads, with descriptions
    rule: Rule | None = None
    query: str = ""  # the file's own query (a rule's before its shared projection)
    quarantine: list[Quarantine] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)  # a union's rules, each evaluated on its own
    union_template: str = ""  # a union's query with {{ rules }} in place of one member

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def writes(self) -> tuple[str, ...]:
        """The relations a build writes: the model's own, and a union's record of its rules."""
        return (self.relation, f"{self.schema}.{RULE_RUNS}") if self.members else (self.relation,)

    def member_sql(self, member: Member) -> str:
        """The union's query over one of its rules."""
        return RULES_PLACEHOLDER.sub(lambda _: f"(\n{member.sql}\n)", self.union_template)

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


def _unique_entity(relation: str) -> ModelTest:
    """Every rule's own test, added by the loader (rules are written once): one finding per entity.
    Error: a rule listing an entity twice double-counts it; the union leaves such a rule out (its
    area goes stale)."""
    (test,), _ = _build_test("unique", "entity_id", relation, "error")
    return replace(test, description="entity_id is unique: a rule that lists an entity twice double-counts it")


def _columns(args, key: str = "column") -> list[str]:
    value = args[key] if isinstance(args, dict) else args
    return [value] if isinstance(value, str) else list(value)


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _build_test(kind: str, args, relation: str, severity: str) -> tuple[list[ModelTest], list[str]]:
    def test(name: str, template: str, description: str) -> ModelTest:
        return ModelTest(name, kind, severity, template, description, relation)

    if kind == "unique":
        cols = _columns(args)
        listed = ", ".join(_q(c) for c in cols)
        sql = f"SELECT {listed}, count(*) AS n FROM {THIS} GROUP BY {listed} HAVING count(*) > 1"
        return [test(f"unique_{'_'.join(cols)}", sql, f"{' + '.join(cols)} is unique")], []
    if kind == "not_null":
        return [
            test(f"not_null_{c}", f"SELECT * FROM {THIS} WHERE {_q(c)} IS NULL", f"{c} is never null")
            for c in _columns(args)
        ], []
    if kind == "accepted_values":
        col, values = args["column"], list(args["values"])
        listed = ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)
        sql = f"SELECT * FROM {THIS} WHERE {_q(col)} IS NOT NULL AND CAST({_q(col)} AS VARCHAR) NOT IN ({listed})"
        return [test(f"accepted_values_{col}", sql, f"{col} is one of {values}")], []
    if kind == "relationships":
        col, to, parent = args["column"], args["to"], args.get("field", args["column"])
        sql = (
            f"SELECT c.* FROM {THIS} c WHERE c.{_q(col)} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {to} p WHERE p.{_q(parent)} = c.{_q(col)})"
        )
        return [test(f"relationships_{col}", sql, f"every {col} is a {to}.{parent}")], [to]
    name = args["name"]
    if not NAME.match(name):
        raise ValueError(f"name {name!r} (lowercase letters, digits, underscores)")
    sql = args["sql"].replace("{{this}}", THIS)
    return [test(name, sql, args.get("description", f"{name} returns no rows"))], []


def _quarantine(
    path: Path, relation: str, raw, query: str, returned: list[str] | None
) -> tuple[list[Quarantine], list[ModelTest]]:
    """The header's quarantine rules, and a warn check per rule that lists the rows it leaves out."""
    if raw is None:
        return [], []
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise ModelError(f"{_where(path)}: quarantine must be a list of {{name, where, reason}}")
    rules, checks = [], []
    for item in raw:
        if set(item) != {"name", "where", "reason"}:
            raise ModelError(
                f"{_where(path)}: each quarantine rule has exactly name, where and reason, got {sorted(item)}"
            )
        name, where, reason = str(item["name"]), str(item["where"]).strip(), " ".join(str(item["reason"]).split())
        if not NAME.match(name):
            raise ModelError(f"{_where(path)}: quarantine name {name!r} (lowercase letters, digits, underscores)")
        try:
            condition = sqlglot.parse_one(f"select 1 where {where}", read="duckdb")
        except ParseError as exc:
            raise ModelError(f"{_where(path)}: quarantine {name}: the condition does not parse: {exc}") from None
        unknown = {c.name for c in condition.find_all(exp.Column)} - set(returned or ())
        if returned is not None and unknown:
            raise ModelError(f"{_where(path)}: quarantine {name}: {sorted(unknown)} are not columns of the model")
        rules.append(Quarantine(name, where, reason))
        checks.append(
            ModelTest(name, "quarantine", "warn", f"SELECT * FROM (\n{query}\n) AS quarantined WHERE {where}",
                      f"rows left out of the model: {reason}", relation)
        )  # fmt: skip
    return rules, checks


def quarantined_sql(query: str, rules: list[Quarantine]) -> str:
    """The model's query without the rows any quarantine rule matches (a null condition keeps the row)."""
    if not rules:
        return query
    matched = " or ".join(f"({r.where})" for r in rules)
    return f"select * from (\n{query}\n) as checked\nwhere not coalesce({matched}, false)"


def _references(path: Path, statement: exp.Query) -> list[Reference]:
    refs = []
    for scope in traverse_scope(statement):
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


def _location(path: Path, relative: Path) -> tuple[str, str]:
    if len(relative.parts) != 2:
        raise ModelError(f"{_where(path)}: models live in <schema>/<name>.sql, one folder deep")
    schema, name = relative.parts[0], relative.stem
    for part in (schema, name):
        if not NAME.match(part):
            raise ModelError(f"{_where(path)}: {part!r} is not a usable schema or model name (a-z, 0-9, _)")
    return schema, name


def _rule(path: Path, raw) -> Rule | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ModelError(f"{_where(path)}: rule must be a mapping with {sorted(RULE_FIELDS)}")
    missing = RULE_FIELDS - {"subject"} - set(raw)
    unknown = set(raw) - RULE_FIELDS
    if missing or unknown:
        raise ModelError(f"{_where(path)}: rule header lacks {sorted(missing)} or has unknown keys {sorted(unknown)}")
    if raw["severity"] not in RULE_SEVERITIES:
        raise ModelError(f"{_where(path)}: rule severity must be one of {', '.join(RULE_SEVERITIES)}")
    return Rule(
        id=str(raw["id"]),
        area=str(raw["area"]),
        severity=str(raw["severity"]),
        entity_type=str(raw["entity"]),
        subject_type=str(raw["subject"]) if raw.get("subject") else None,
        legal_basis=" ".join(str(raw["legal_basis"]).split()),
        recommendation=" ".join(str(raw["recommendation"]).split()),
    )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _rule_sql(rule: Rule, query: str) -> str:
    """The shared projection of every finding around the rule's own query."""
    subject_type = _literal(rule.subject_type) if rule.subject_type else "finding.subject_type"
    return (
        f"select\n    {_literal(rule.id)} as rule_id,\n    {_literal(rule.area)} as area,\n"
        f"    {_literal(rule.severity)} as severity,\n    {_literal(rule.entity_type)} as entity_type,\n"
        "    cast(finding.entity_id as varchar) as entity_id,\n    finding.tenant_id,\n"
        f"    {subject_type} as subject_type,\n    cast(finding.subject_id as varchar) as subject_id,\n"
        "    cast(finding.evidence as varchar) as evidence,\n"
        f"    {_literal(rule.legal_basis)} as legal_basis,\n    {_literal(rule.recommendation)} as recommendation\n"
        f"from (\n{query}\n) as finding"
    )


def _output_columns(statement: exp.Query) -> list[str] | None:
    """The names a query returns, or None where a star hides them."""
    names = statement.named_selects
    return None if "*" in names or any(isinstance(s, exp.Star) for s in statement.selects) else names


def _parse(path: Path, body: str) -> exp.Query:
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
    return statements[0]


def _check_variables(path: Path, body: str, declared: dict[str, str]) -> None:
    used = {}
    for match in VARIABLE.finditer(body):
        line = body.count("\n", 0, match.start()) + 1
        used.setdefault(match.group(1), (line, match.start() - body.rfind("\n", 0, match.start())))
    for name, (line, col) in used.items():
        if name not in declared:
            raise ModelError(f"{_where(path, line, col)}: getvariable('{name}') is not declared under vars:")
    unused = sorted(set(declared) - set(used))
    if unused:
        raise ModelError(f"{_where(path)}: vars {unused} are declared but the SQL never reads them")


def _mapping(path: Path, header: dict, key: str) -> dict[str, str]:
    raw = header.get(key) or {}
    if not isinstance(raw, dict) or not all(isinstance(k, str) and NAME.match(k) for k in raw):
        raise ModelError(f"{_where(path)}: {key} must map lowercase names to descriptions")
    return {k: " ".join(str(v or "").split()) for k, v in raw.items()}


def read_model(path: Path, root: Path, rule_relations: dict[str, list[str]] | None = None) -> Model:
    """One model from its file. `rule_relations`: the rule models per schema, for `union_of: rules`."""
    schema, name = _location(path, path.relative_to(root))
    text = path.read_text(encoding="utf-8")
    header, body = _header(path, text)
    unknown = set(header) - HEADER_KEYS
    if unknown:
        raise ModelError(f"{_where(path)}: unknown header keys {sorted(unknown)}")
    materialized = header.get("materialized", "table")
    if materialized not in ("table", "view"):
        raise ModelError(f"{_where(path)}: materialized must be table or view, got {materialized!r}")
    template = ""  # a union's query with the placeholder, for each rule on its own
    if header.get("union_of") is not None:
        if header["union_of"] != "rules" or not RULES_PLACEHOLDER.search(body):
            raise ModelError(f"{_where(path)}: union_of: rules needs the placeholder {{{{ rules }}}} in the query")
        members = (rule_relations or {}).get(schema) or []
        if not members:
            raise ModelError(f"{_where(path)}: union_of: rules, but {schema}/ holds no model with a rule: header")
        union = " union all by name ".join(f"select * from {m}" for m in members)
        template = body.strip().rstrip(";")
        body = RULES_PLACEHOLDER.sub(lambda _: f"({union})", body)  # one line: line numbers stay true
    variables = _mapping(path, header, "vars")
    _check_variables(path, body, variables)
    statement = _parse(path, body)
    rule = _rule(path, header.get("rule"))
    query = body.strip().rstrip(";")
    columns = _mapping(path, header, "columns")
    returned = _output_columns(statement)
    if header.get("union_of"):
        columns = {k: v for k, v in RULE_COLUMN_DESCRIPTIONS.items() if returned is None or k in returned} | columns
    if rule:
        needed = {"entity_id", "tenant_id", "subject_id", "evidence"} | (
            set() if rule.subject_type else {"subject_type"}
        )
        if returned is None or needed - set(returned):
            raise ModelError(
                f"{_where(path)}: a rule's query names the columns it returns; it must return {sorted(needed)}"
            )
        columns = {**RULE_COLUMN_DESCRIPTIONS, **columns}
        returned = list(RULE_COLUMNS)
    if returned is not None and set(columns) - set(returned):
        raise ModelError(
            f"{_where(path)}: columns {sorted(set(columns) - set(returned))} are not in the query's result"
        )
    tests, deps = _test_list(path, f"{schema}.{name}", header.get("tests", []))
    if rule and not any(t.kind == "unique" and t.name == "unique_entity_id" for t in tests):
        tests.insert(0, _unique_entity(f"{schema}.{name}"))
    if header.get("quarantine") is not None and (rule or header.get("union_of")):
        raise ModelError(f"{_where(path)}: rules and unions find rows; quarantine belongs to the models they read")
    quarantine, quarantine_checks = _quarantine(path, f"{schema}.{name}", header.get("quarantine"), query, returned)
    if {t.name for t in tests} & {t.name for t in quarantine_checks}:
        raise ModelError(f"{_where(path)}: a quarantine rule and a test share a name")
    return Model(
        schema=schema,
        name=name,
        path=path,
        sql=_rule_sql(rule, query) if rule else quarantined_sql(query, quarantine),
        materialized=materialized,
        description=" ".join(str(header.get("description", "")).split()),
        owner=header.get("owner"),
        tags=list(header.get("tags", [])),
        tests=tests + quarantine_checks,
        references=_references(path, statement),
        test_dependencies=deps,
        columns=columns,
        variables=variables,
        rule=rule,
        query=query,
        quarantine=quarantine,
        union_template=template,
    )


def _gather_members(union: Model, rules: list[Model]) -> None:
    """A union reads what its rules read: each rule is evaluated inside the union's build, so a
    rule's own relation (a view for analysts) is no dependency and cannot hold the union back."""
    union.members = [Member(r.relation, r.rule, r.sql) for r in rules if r.rule]
    own = {r.relation for r in rules}
    inherited = [ref for r in rules for ref in r.references]
    union.references = [ref for ref in union.references if ref.relation not in own] + inherited
    union.test_dependencies = [d for d in union.test_dependencies if d not in own]
    joined = " union all by name ".join(f"select * from (\n{m.sql}\n)" for m in union.members)
    union.sql = RULES_PLACEHOLDER.sub(lambda _: f"(\n{joined}\n)", union.union_template)


def producers(models: list[Model]) -> dict[str, str]:
    """Relations a build writes besides the model's own (a union's rule_runs), to the model's relation."""
    return {w: m.relation for m in models for w in m.writes if w != m.relation}


def _rule_relations(paths: list[Path], root: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in paths:
        schema, name = _location(path, path.relative_to(root))
        header, _ = _header(path, path.read_text(encoding="utf-8"))
        if header.get("rule") is not None:
            found.setdefault(schema, []).append(f"{schema}.{name}")
    return found


RESERVED_SCHEMAS = frozenset({"raw", "quarantine", "ops", "scratch", "reference"})


def load_models(root: Path, external: set[str], reserved: frozenset[str] = RESERVED_SCHEMAS) -> list[Model]:
    """Every model under root, in dependency order.

    `external`: relations that exist without a model (written by the ingest or by Python assets);
    `reserved`: schemas that only those write.
    """
    paths = sorted(root.glob("*/*.sql"))
    rule_relations = _rule_relations(paths, root)
    models = [read_model(p, root, rule_relations) for p in paths]
    by_relation = {m.relation: m for m in models}
    for m in models:
        if m.union_template:
            _gather_members(m, [by_relation[r] for r in rule_relations[m.schema]])
    by_relation |= {w: m for m in models for w in m.writes}
    for m in models:
        if m.schema in reserved:
            raise ModelError(
                f"{_where(m.path)}: schema {m.schema!r} is written by the pipeline itself; choose another folder"
            )
        for written in m.writes:
            if written in external:
                raise ModelError(
                    f"{_where(m.path)}: {written} is written by a Python asset; name the model differently"
                )
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


@dataclass(frozen=True)
class PythonStep:
    """A step written in Python among the SQL models: the relations it writes and those it reads.

    Declared once, next to its code; the asset graph and `build_order` both take it from here.
    """

    name: str
    writes: tuple[str, ...]
    reads: tuple[str, ...] = ()
    side: tuple[str, ...] = ()  # of its writes, those that are no asset of their own but part of the first

    @property
    def relation(self) -> str:
        return self.writes[0]

    @property
    def upstream(self) -> list[str]:
        return list(self.reads)


def build_order(models: list[Model], steps: list[PythonStep]) -> list[Model | PythonStep]:
    """Models and Python steps in an order where each comes after everything it reads."""
    by_relation: dict[str, Model | PythonStep] = {w: m for m in models for w in m.writes}
    for step in steps:
        by_relation.update({w: step for w in step.writes})
    return _ordered([*steps, *models], by_relation)


def _ordered(nodes: list, by_relation: dict) -> list:
    done: dict[int, object] = {}

    def visit(node, path: list) -> None:
        if id(node) in done:
            return
        if any(n is node for n in path):
            cycle = path[[id(n) for n in path].index(id(node)) :] + [node]
            chain = " -> ".join(f"{x.relation} ({getattr(x, 'path', 'python')})" for x in cycle)
            raise ModelError(f"{_where(getattr(node, 'path', Path(node.name)))}: dependency cycle: {chain}")
        for upstream in node.upstream:
            if upstream in by_relation:
                visit(by_relation[upstream], [*path, node])
        done[id(node)] = node

    for node in nodes:
        visit(node, [])
    return list(done.values())
