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
    assert message.startswith(f"{path}:3:")
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
    from assets.sql.models import EXTERNAL as PROJECT_EXTERNAL
    from assets.sql.models import SQL_ROOT

    models = load_models(SQL_ROOT, PROJECT_EXTERNAL)
    relations = {m.relation for m in models}
    assert {"marts.customer_360", "marts.article_sales_daily", "marts.invoice_aging", "marts.audit_stats"} <= relations
    assert all(m.description for m in models)
