"""Loading SQL models: dependencies by parsing, headers, and clear errors with file and line."""

import textwrap

import pytest

from neuroerp.sqlmodels import ModelError, load_models

EXTERNAL = {"raw.customers", "raw.sales_orders", "raw.invoices", "raw.payments", "raw.customer certificates"}


def write(root, relative: str, text: str):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def refs(models, relation):
    return sorted({r.relation for m in models if m.relation == relation for r in m.references})


def test_dependencies_through_ctes_subqueries_joins_and_quotes(tmp_path):
    write(tmp_path, "staging/customers.sql", "select * from raw.customers")
    write(
        tmp_path,
        "marts/tricky.sql",
        """
        with customers as (          -- a CTE named like a table is not a dependency
            select * from staging.customers
        ),
        recent as (select * from raw.sales_orders where ordered_at > now() - interval 30 day)
        select
            c.customer_id,
            (select count(*) from "raw"."customer certificates" cc where cc.customer_id = c.customer_id) as n,
            p.total
        from customers c
        join recent r on r.customer_id = c.customer_id
        left join (select invoice_id, sum(amount) as total from raw.payments group by 1) p on true
        where exists (select 1 from raw.invoices i where i.partner_id = c.customer_id)
        """,
    )
    models = load_models(tmp_path, EXTERNAL)
    assert refs(models, "marts.tricky") == [
        "raw.customer certificates", "raw.invoices", "raw.payments", "raw.sales_orders", "staging.customers"
    ]  # fmt: skip
    assert [m.relation for m in models].index("staging.customers") < [m.relation for m in models].index("marts.tricky")


def test_header_and_sidecar(tmp_path):
    write(
        tmp_path,
        "staging/a.sql",
        """
        /* ---
        description: Model A.
        owner: team:analytics
        materialized: view
        tests:
          - unique: id
          - not_null: [id, name]
          - accepted_values: {column: name, values: [x, y], severity: warn}
          - expression: {name: no_zero, sql: "select * from {{ this }} where id = 0"}
        --- */
        select 1 as id, 'x' as name
        """,
    )
    write(tmp_path, "staging/b.sql", "select * from staging.a")
    write(tmp_path, "staging/b.yml", "description: Model B.\ntests:\n  - relationships: {column: id, to: staging.a}\n")
    a, b = load_models(tmp_path, set())
    assert a.materialized == "view" and a.owner == "team:analytics" and a.description == "Model A."
    assert [t.name for t in a.tests] == ["unique_id", "not_null_id", "not_null_name", "accepted_values_name", "no_zero"]
    assert {t.name: t.severity for t in a.tests}["accepted_values_name"] == "warn"
    assert "staging.a" in a.tests[-1].sql
    assert b.description == "Model B." and b.upstream == ["staging.a"]


def _error(tmp_path) -> str:
    with pytest.raises(ModelError) as info:
        load_models(tmp_path, EXTERNAL)
    return str(info.value)


def test_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "staging/broken.sql", "/* ---\ndescription: x\n--- */\nselect *\nfrom\nwhere x = 1\n")
    message = _error(tmp_path)
    assert message.startswith(f"{path}:6:")
    assert "syntax error" in message


def test_unknown_table_names_file_line_and_relation(tmp_path):
    path = write(tmp_path, "marts/m.sql", "select *\nfrom raw.customers c\njoin raw.nonexistent n on true\n")
    message = _error(tmp_path)
    assert message.startswith(f"{path}:3:20:")  # the line and the column where the name ends
    assert "raw.nonexistent does not exist" in message


def test_unqualified_table_is_refused(tmp_path):
    path = write(tmp_path, "marts/m.sql", "select * from customers")
    assert _error(tmp_path).startswith(f"{path}:1:") and "needs its schema" in _error(tmp_path)


def test_dependency_cycle_names_every_model(tmp_path):
    write(tmp_path, "marts/a.sql", "select * from marts.b")
    write(tmp_path, "marts/b.sql", "select * from marts.c")
    write(tmp_path, "marts/c.sql", "select * from marts.a")
    message = _error(tmp_path)
    assert "dependency cycle" in message
    for name in ("a.sql", "b.sql", "c.sql"):
        assert name in message


@pytest.mark.parametrize(
    "text, expected",
    [
        ("/* ---\ntests: [unique: x\n--- */\nselect 1 as x", "invalid YAML header"),
        ("/* ---\ntests:\n  - distinct: x\n--- */\nselect 1 as x", "unknown test 'distinct'"),
        ("/* ---\nmaterialized: incremental\n--- */\nselect 1 as x", "materialized must be table or view"),
        ("/* ---\ncolour: red\n--- */\nselect 1 as x", "unknown header keys"),
        ("/* ---\ntests:\n  - unique: {severity: fatal, column: x}\n--- */\nselect 1 as x", "severity"),
        ("/* ---\ntests:\n  - accepted_values: {column: x}\n--- */\nselect 1 as x", "missing or wrong argument"),
        ("insert into raw.customers values (1)", "exactly one SELECT"),
    ],
)
def test_header_and_statement_errors(tmp_path, text, expected):
    path = write(tmp_path, "staging/m.sql", text)
    message = _error(tmp_path)
    assert message.startswith(str(path)) and expected in message


def test_header_and_sidecar_together_is_an_error(tmp_path):
    write(tmp_path, "staging/m.sql", "/* ---\ndescription: x\n--- */\nselect 1 as x")
    write(tmp_path, "staging/m.yml", "description: y\n")
    assert "both a header block and m.yml" in _error(tmp_path)


def test_raw_schema_is_reserved(tmp_path):
    write(tmp_path, "raw/mine.sql", "select 1 as x")
    assert "written by the pipeline itself" in _error(tmp_path)


def test_the_projects_models_load():
    from neuroerp.project import EXTERNAL as PROJECT_EXTERNAL
    from neuroerp.project import SQL_ROOT

    models = load_models(SQL_ROOT, PROJECT_EXTERNAL)
    relations = {m.relation for m in models}
    assert {"marts.customer_360", "marts.article_sales_daily", "marts.invoice_aging", "marts.audit_stats"} <= relations
    assert all(m.description for m in models)


RULE = """
/* ---
description: {rid} finds what it finds.
materialized: view
rule:
  id: {rid}
  area: psm
  severity: high
  entity: sales_order
  subject: customer
  legal_basis: § 1 Gesetz
  recommendation: >
    Etwas tun,
    und zwar bald.
--- */
select order_id as entity_id, tenant_id, customer_id as subject_id, json_object('n', 1) as evidence
from raw.sales_orders
"""
UNION = """
/* ---
description: All findings.
union_of: rules
--- */
select rule_id, entity_id, legal_basis from {{ rules }} as f
"""


def test_a_rule_file_holds_only_what_it_finds_and_the_union_collects_every_rule(tmp_path):
    write(tmp_path, "checks/a_rule.sql", RULE.format(rid="R-1"))
    write(tmp_path, "checks/b_rule.sql", RULE.format(rid="R-2"))
    write(tmp_path, "checks/findings.sql", UNION)
    write(tmp_path, "checks/plain.sql", "select 1 as x")  # no rule header: not part of the union
    models = {m.relation: m for m in load_models(tmp_path, EXTERNAL)}
    rule = models["checks.a_rule"]
    assert rule.rule.recommendation == "Etwas tun, und zwar bald." and rule.rule.legal_basis == "§ 1 Gesetz"
    assert "'R-1' as rule_id" in rule.sql and "'customer' as subject_type" in rule.sql
    assert "'R-1'" not in rule.query  # the file's own query stays as written
    assert set(rule.columns) == {"rule_id", "area", "severity", "entity_type", "entity_id", "tenant_id",
                                 "subject_type", "subject_id", "evidence", "legal_basis", "recommendation"}  # fmt: skip
    union = models["checks.findings"]
    # the union evaluates each rule itself: it reads what the rules read, so a failing rule's own
    # asset (a view for analysts) cannot hold it back
    assert set(union.upstream) == {"raw.sales_orders"}
    assert [m.relation for m in union.members] == ["checks.a_rule", "checks.b_rule"]
    assert union.writes == ("checks.findings", "checks.rule_runs")
    assert "'R-2' as rule_id" in union.member_sql(union.members[1]) and "'R-1'" not in union.member_sql(
        union.members[1]
    )
    assert set(union.columns) == {"rule_id", "entity_id", "legal_basis"}  # the shared descriptions it returns


def test_rules_run_in_duckdb_with_the_shared_projection(tmp_path):
    import duckdb

    from neuroerp.sqlmodels import build

    write(tmp_path, "checks/a_rule.sql", RULE.format(rid="R-1"))
    write(tmp_path, "checks/findings.sql", UNION)
    conn = duckdb.connect()
    conn.execute(
        "CREATE SCHEMA raw; CREATE TABLE raw.sales_orders (order_id UUID, tenant_id VARCHAR, customer_id VARCHAR)"
    )
    conn.execute("INSERT INTO raw.sales_orders VALUES ('00000000-0000-0000-0000-000000000001', 't', 'c1')")
    for model in load_models(tmp_path, EXTERNAL):
        build(conn, model)
    row = conn.execute("SELECT * FROM checks.a_rule").fetchone()
    assert row == ("R-1", "psm", "high", "sales_order", "00000000-0000-0000-0000-000000000001", "t", "customer",
                   "c1", '{"n":1}', "§ 1 Gesetz", "Etwas tun, und zwar bald.")  # fmt: skip
    assert conn.execute("SELECT rule_id FROM checks.findings").fetchall() == [("R-1",)]


@pytest.mark.parametrize(
    "text, expected",
    [
        (RULE.format(rid="R-1").replace("customer_id as subject_id, ", ""), "it must return"),
        (RULE.format(rid="R-1").replace("severity: high", "severity: urgent"), "rule severity must be one of"),
        (RULE.format(rid="R-1").replace("  legal_basis: § 1 Gesetz\n", ""), "rule header lacks ['legal_basis']"),
        (RULE.format(rid="R-1").replace("  subject: customer\n", ""), "it must return"),  # then the query must
        (UNION, "holds no model with a rule: header"),
        (UNION.replace("{{ rules }}", "raw.sales_orders"), "needs the placeholder"),
        ("/* ---\ncolumns: {nope: x}\n--- */\nselect 1 as x", "columns ['nope'] are not in the query's result"),
        ("select getvariable('as_of') as d", "getvariable('as_of') is not declared under vars:"),
        ("/* ---\nvars: {as_of: x, unused: y}\n--- */\nselect getvariable('as_of') as d", "['unused'] are declared"),
    ],
)
def test_rule_union_column_and_variable_errors(tmp_path, text, expected):
    path = write(tmp_path, "checks/m.sql", text)
    message = _error(tmp_path)
    assert message.startswith(str(path)) and expected in message, message


def test_a_models_variables_are_set_from_the_run_and_only_declared_ones(tmp_path):
    import duckdb

    from neuroerp.sqlmodels import build

    write(tmp_path, "probe/day.sql", "/* ---\nvars: {as_of: the day}\n--- */\nselect coalesce(getvariable('as_of')::date, date '2000-01-01') as d")  # fmt: skip
    (model,) = load_models(tmp_path, EXTERNAL)
    conn = duckdb.connect()
    build(conn, model)
    assert conn.execute("SELECT d FROM probe.day").fetchone()[0].isoformat() == "2000-01-01"
    build(conn, model, {"as_of": "2026-11-20"})
    assert conn.execute("SELECT d FROM probe.day").fetchone()[0].isoformat() == "2026-11-20"
    with pytest.raises(ValueError, match="declares no variable 'eudr'"):
        build(conn, model, {"eudr": "2027-01-01"})


def test_python_steps_take_their_place_in_the_build_order(tmp_path):
    from neuroerp.sqlmodels import PythonStep, build_order

    write(tmp_path, "checks/findings.sql", "select * from raw.customers")
    write(tmp_path, "checks/scores.sql", "select * from checks.history")
    step = PythonStep("history", writes=("checks.history",), reads=("checks.findings",))
    models = load_models(tmp_path, EXTERNAL | {"checks.history"})
    order = [n.relation for n in build_order(models, [step])]
    assert order.index("checks.findings") < order.index("checks.history") < order.index("checks.scores")
    looping = PythonStep("loop", writes=("checks.history",), reads=("checks.scores",))
    with pytest.raises(ModelError, match="dependency cycle"):
        build_order(models, [looping])


QUARANTINED = """
/* ---
quarantine:
  - {name: revoked_before_granted, where: "revoked_at < granted_at", reason: revoked before it was granted}
--- */
select id, granted_at, revoked_at from raw.customers
"""


@pytest.mark.parametrize(
    "text, expected",
    [
        (QUARANTINED.replace("revoked_at < granted_at", "nope < granted_at"), "['nope'] are not columns of the model"),
        (QUARANTINED.replace("revoked_at < granted_at", "revoked_at <"), "the condition does not parse"),
        (QUARANTINED.replace(", reason: revoked before it was granted", ""), "exactly name, where and reason"),
        (QUARANTINED.replace("name: revoked_before_granted", "name: Revoked"), "quarantine name 'Revoked'"),
        (
            QUARANTINED.replace(
                "quarantine:\n",
                "tests:\n  - unique: {column: id, severity: warn}\n  - expression: "
                "{name: revoked_before_granted, sql: select 1}\nquarantine:\n",
            ),
            "a quarantine rule and a test share a name",
        ),  # fmt: skip
        (
            RULE.format(rid="R-1").replace("--- */", "quarantine:\n  - {name: q, where: x, reason: y}\n--- */"),
            "quarantine belongs to the models they read",
        ),  # fmt: skip
    ],
)
def test_quarantine_errors(tmp_path, text, expected):
    path = write(tmp_path, "checks/m.sql", text)
    message = _error(tmp_path)
    assert message.startswith(str(path)) and expected in message, message


def test_a_quarantine_rule_filters_the_model_and_is_a_warn_check(tmp_path):
    write(tmp_path, "staging/consents.sql", QUARANTINED)
    (model,) = load_models(tmp_path, EXTERNAL)
    (check,) = model.tests
    assert (check.name, check.kind, check.severity) == ("revoked_before_granted", "quarantine", "warn")
    assert "WHERE revoked_at < granted_at" in check.sql and "revoked before it was granted" in check.description
    assert "not coalesce((revoked_at < granted_at), false)" in model.sql  # a null condition keeps the row
    assert model.query.startswith("select id")  # the file's own query stays as written
