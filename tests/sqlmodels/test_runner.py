"""Building models in a real DuckDB warehouse: every test kind passing and failing, atomic swaps."""

import datetime as dt
import threading

import dagster as dg
import duckdb
import pytest

from assets.resources import Warehouse
from assets.sqlmodels.factory import load_sql_assets
from neuroerp.compliance.engine import run_compliance
from neuroerp.project import EXTERNAL, SQL_ROOT
from neuroerp.seed import seed_source
from neuroerp.sqlmodels import build, load_models, run_test
from tests.conftest import AS_OF, SEED
from tests.ingest.conftest import ingest_all
from tests.sqlmodels.test_loader import RULE, write


@pytest.fixture(scope="module")
def warehouse_path(tmp_path_factory):
    """A warehouse with raw ingested from the demo ERP and every project model built."""
    folder = tmp_path_factory.mktemp("models")
    url = f"sqlite:///{folder / 'erp.sqlite'}"
    seed_source(url, scale=0.01, seed=SEED, as_of=AS_OF, create_schema=True)
    path = folder / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        ingest_all(url, conn)
        run_compliance(conn, url, load_models(SQL_ROOT, EXTERNAL))  # every model, in the asset graph's order
    return path


@pytest.fixture
def conn(warehouse_path):
    with duckdb.connect(str(warehouse_path)) as c:
        yield c


def test_every_project_model_passes_its_tests(conn):
    for model in load_models(SQL_ROOT, EXTERNAL):
        for test in model.tests:
            outcome = run_test(conn, test)
            assert outcome.passed or test.severity == "warn", (model.relation, test.name, outcome.sample)


def test_marts_answer_what_analysts_ask(conn):
    # customer 360: revenue equals the AR invoices' net amounts
    (mart,) = conn.execute("SELECT sum(revenue_net_total) FROM marts.customer_360").fetchall()[0:1]
    (inv,) = conn.execute(
        "SELECT sum(net_amount) FROM raw.invoices i JOIN raw.customers c ON c.customer_id = i.partner_id "
        "WHERE kind = 'AR' AND status <> 'cancelled' AND c.deleted_at IS NULL"
    ).fetchall()
    assert mart == inv
    # invoice aging: every open AR/AP invoice in exactly one bucket
    buckets = dict(conn.execute("SELECT bucket, count(*) FROM marts.invoice_aging GROUP BY 1").fetchall())
    assert set(buckets) <= {"not_due", "1-30", "31-60", "61-90", "over_90"} and sum(buckets.values()) > 0
    # audit stats: entries add up to the audit log
    assert (
        conn.execute("SELECT sum(entries) FROM marts.audit_stats").fetchall()
        == conn.execute("SELECT count(*) FROM raw.audit_log").fetchall()
    )
    # daily article sales add up to the lines of orders that went ahead
    assert (
        conn.execute("SELECT sum(order_lines) FROM marts.article_sales_daily").fetchall()
        == conn.execute(
            "SELECT count(*) FROM raw.sales_order_lines l JOIN raw.sales_orders o USING (order_id) "
            "WHERE o.status <> 'cancelled'"
        ).fetchall()
    )


CASES = {
    # kind: (passing test, failing test)
    "unique": ("- unique: customer_id", "- unique: customer_type"),
    "not_null": ("- not_null: customer_no", "- not_null: vat_id"),
    "accepted_values": (
        "- accepted_values: {column: country_code, values: [DE, NL, DK, AT]}",
        "- accepted_values: {column: customer_type, values: [farm, private]}",
    ),
    "relationships": (
        "- relationships: {column: customer_id, to: raw.customers, field: customer_id}",
        "- relationships: {column: customer_id, to: staging.customer_certificates, field: customer_id}",
    ),
    "expression": (
        "- expression: {name: probe, sql: \"select * from {{ this }} where customer_no not like 'K%'\"}",
        '- expression: {name: probe, sql: "select * from {{ this }} where is_professional"}',
    ),
}


@pytest.mark.parametrize("kind", sorted(CASES))
@pytest.mark.parametrize("outcome", ["passes", "fails"])
def test_each_test_kind_on_real_data(tmp_path, conn, kind, outcome):
    test = CASES[kind][0 if outcome == "passes" else 1]
    write(tmp_path, "probe/customers.sql", f"/* ---\ntests:\n  {test}\n--- */\nselect * from raw.customers\n")
    (model,) = load_models(tmp_path, EXTERNAL | {"staging.customer_certificates"})
    build(conn, model)
    (result,) = [run_test(conn, t) for t in model.tests]
    assert result.passed == (outcome == "passes"), result.sample
    if outcome == "fails":
        assert result.failing_rows > 0 and result.sample


def test_a_failing_model_leaves_the_previous_version(tmp_path, conn):
    write(tmp_path, "probe/swap.sql", "select 1 as version, range as n from range(100)")
    (v1,) = load_models(tmp_path, EXTERNAL)
    build(conn, v1)
    write(tmp_path, "probe/swap.sql", "select 2 as version, n, error('boom at row ' || n) as x "
                                      "from (select range as n from range(100))")  # fmt: skip
    (v2,) = load_models(tmp_path, EXTERNAL)
    with pytest.raises(duckdb.Error, match="boom"):
        build(conn, v2)
    assert conn.execute("SELECT DISTINCT version FROM probe.swap").fetchall() == [(1,)]
    leftovers = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_name LIKE '__building__%'")
    assert leftovers.fetchall() == []


def test_readers_never_see_half_a_table(tmp_path, warehouse_path):
    writer = duckdb.connect(str(warehouse_path))
    seen: set[int] = set()
    vanished: list[str] = []  # the table missing after it was first built: a swap not atomic
    built, stop = threading.Event(), threading.Event()

    def read() -> None:
        reader = writer.cursor()  # a second connection to the same database
        while not stop.is_set():
            existed = built.is_set()
            try:
                seen.add(reader.execute("SELECT count(*) FROM probe.big").fetchall()[0][0])
            except duckdb.CatalogException as error:
                if existed:
                    vanished.append(str(error))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for rows in (200_000, 300_000, 200_000, 300_000):
            write(tmp_path, "probe/big.sql", f"select range as n, md5(range::varchar) as h from range({rows})")
            (model,) = load_models(tmp_path, EXTERNAL)
            build(writer, model)
            built.set()
    finally:
        stop.set()
        thread.join()
        writer.close()
    assert seen <= {200_000, 300_000} and seen
    assert vanished == [], vanished[:3]


def test_a_build_cleans_up_after_a_crashed_one(tmp_path, conn):
    write(tmp_path, "probe/crashed.sql", "/* ---\nmaterialized: view\n--- */\nselect 1 as x")
    (model,) = load_models(tmp_path, EXTERNAL)
    conn.execute("CREATE SCHEMA IF NOT EXISTS probe")
    conn.execute('CREATE VIEW probe."__building__crashed" AS SELECT 0 AS x')  # what a killed build leaves
    build(conn, model)
    assert conn.execute("SELECT x FROM probe.crashed").fetchall() == [(1,)]


def test_switching_between_view_and_table(tmp_path, conn):
    write(tmp_path, "probe/switch.sql", "/* ---\nmaterialized: view\n--- */\nselect 1 as x")
    build(conn, load_models(tmp_path, EXTERNAL)[0])
    write(tmp_path, "probe/switch.sql", "/* ---\nmaterialized: table\n--- */\nselect 2 as x")
    build(conn, load_models(tmp_path, EXTERNAL)[0])
    kind = conn.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'switch'").fetchall()
    assert kind == [("BASE TABLE",)] and conn.execute("SELECT x FROM probe.switch").fetchall() == [(2,)]


def test_an_error_test_blocks_downstream_models_in_dagster(tmp_path):
    root = tmp_path / "sql"
    write(root, "probe/upstream.sql", "/* ---\ntests:\n  - unique: id\n--- */\nselect 1 as id union all select 1")
    write(root, "probe/downstream.sql", "select * from probe.upstream")
    write(root, "probe/warned.sql", "/* ---\ntests:\n  - unique: {column: id, severity: warn}\n--- */\n"
                                    "select 1 as id union all select 1")  # fmt: skip
    write(root, "probe/after_warning.sql", "select * from probe.warned")
    result = dg.materialize(
        load_sql_assets(root), resources={"warehouse": Warehouse(home=str(tmp_path))}, raise_on_error=False
    )
    done = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "probe/upstream" in done and "probe/downstream" not in done  # blocked by the failed error check
    assert {"probe/warned", "probe/after_warning"} <= done  # a warning does not block
    checks = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert checks[("probe/upstream", "unique_id")] is False


# ------------------------------------------------------------------------------------ quarantine

CONSENTS = """
/* ---
materialized: {materialized}
quarantine:
  - {{name: revoked_before_granted, where: "revoked_at < granted_at", reason: \"revoked before it was granted (the customer's word)\"}}
--- */
select * from raw.probe_consents
"""


@pytest.mark.parametrize("materialized", ["view", "table"])
def test_quarantined_rows_are_left_out_and_kept_with_their_reason_since_first_seen(tmp_path, materialized):
    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA raw")
    conn.execute("CREATE TABLE raw.probe_consents (id INTEGER, granted_at DATE, revoked_at DATE)")
    conn.execute(
        "INSERT INTO raw.probe_consents VALUES (1, '2026-01-02', NULL), (2, '2026-01-02', '2026-01-01'), "
        "(3, '2026-01-02', '2026-01-02'), (4, '2026-01-05', '2026-01-03')"
    )  # 2 and 4 were revoked before they were granted; 3 on the same day is fine, 1 is in force
    write(tmp_path, "probe/consents.sql", CONSENTS.format(materialized=materialized))
    (model,) = load_models(tmp_path, EXTERNAL | {"raw.probe_consents"})
    first = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
    built = build(conn, model, now=first)
    assert built.quarantined == {"revoked_before_granted": 2}
    assert conn.execute("SELECT id FROM probe.consents ORDER BY id").fetchall() == [(1,), (3,)]
    (check,) = [run_test(conn, t) for t in model.tests]
    assert check.failing_rows == 2 and {r["id"] for r in check.sample} == {"2", "4"}
    rows = conn.execute(
        "SELECT relation, rule, reason, json_extract(row_json, '$.id')::int, first_seen_at, last_seen_at "
        "FROM quarantine.model_rows ORDER BY 4"
    ).fetchall()
    assert rows == [
        (
            "probe.consents",
            "revoked_before_granted",
            "revoked before it was granted (the customer's word)",
            i,
            first,
            first,
        )
        for i in (2, 4)
    ]
    # the source fixes one row and breaks another: the fixed one leaves quarantine, the other
    # keeps the instant it was first left out
    conn.execute("UPDATE raw.probe_consents SET revoked_at = NULL WHERE id = 2")
    conn.execute("UPDATE raw.probe_consents SET revoked_at = '2026-01-01' WHERE id = 1")
    later = first + dt.timedelta(hours=1)
    assert build(conn, model, now=later).quarantined == {"revoked_before_granted": 2}
    rows = conn.execute(
        "SELECT json_extract(row_json, '$.id')::int, first_seen_at, last_seen_at FROM quarantine.model_rows ORDER BY 1"
    ).fetchall()
    assert rows == [(1, later, later), (4, first, later)]
    assert conn.execute("SELECT id FROM probe.consents ORDER BY id").fetchall() == [(2,), (3,)]


def test_a_quarantine_warning_does_not_block_downstream_models_in_dagster(tmp_path):
    root = tmp_path / "sql"
    write(root, "probe/lines.sql", "/* ---\nquarantine:\n  - {name: negative_quantity, where: q < 0, reason: negative}\n"
                                  "--- */\nselect * from (values (1, 2.0), (2, -1.0)) as t(id, q)")  # fmt: skip
    write(root, "probe/totals.sql", "select sum(q) as total from probe.lines")
    result = dg.materialize(
        load_sql_assets(root), resources={"warehouse": Warehouse(home=str(tmp_path))}, raise_on_error=False
    )
    assert result.success
    (check,) = result.get_asset_check_evaluations()
    assert (check.check_name, check.passed, check.severity) == ("negative_quantity", False, dg.AssetCheckSeverity.WARN)
    (lines,) = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "probe/lines"]
    assert lines.materialization.metadata["quarantined_total"].value == 1
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT total FROM probe.totals").fetchall() == [(2.0,)]


# ------------------------------------------------------------------- a union evaluates each rule


def _rules_folder(tmp_path, broken: str) -> list:
    write(tmp_path, "checks/a_rule.sql", RULE.format(rid="R-1"))
    write(tmp_path, "checks/b_rule.sql", RULE.format(rid="R-2").replace("area: psm", "area: gdpr")
          .replace("from raw.sales_orders", broken))  # fmt: skip
    write(tmp_path, "checks/findings.sql", "/* ---\nunion_of: rules\ntests:\n  - unique: entity_id\n--- */\n"
                                           "select rule_id, area, entity_id from {{ rules }} as f")  # fmt: skip
    write(tmp_path, "checks/after.sql", "select rule_id, status from checks.rule_runs")
    return load_models(tmp_path, EXTERNAL)


@pytest.mark.parametrize(
    "broken, error",
    [
        ("from raw.sales_orders where error('boom') is null", "boom"),  # fails at run time, not when bound
        ("from raw.sales_orders, range(2)", "test unique_entity_id found 1 rows, e.g. {"),  # an entity twice
    ],
)
def test_a_failing_rule_is_left_out_of_the_union_and_recorded(tmp_path, broken, error):
    conn = duckdb.connect()
    conn.execute(
        "CREATE SCHEMA raw; CREATE TABLE raw.sales_orders (order_id VARCHAR, tenant_id VARCHAR, customer_id VARCHAR)"
    )
    conn.execute("INSERT INTO raw.sales_orders VALUES ('o1', 't', 'c1')")
    models = {m.relation: m for m in _rules_folder(tmp_path, broken)}
    union = models["checks.findings"]
    first = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
    built = build(conn, union, now=first, run_id="run-1")
    assert [(m.rule_id, m.status) for m in built.members] == [("R-1", "ok"), ("R-2", "failed")]
    assert error in built.failed_members[0].error
    assert conn.execute("SELECT rule_id, entity_id FROM checks.findings").fetchall() == [("R-1", "o1")]
    runs = conn.execute(
        "SELECT evaluated_at, run_id, rule_id, area, relation, status, findings FROM checks.rule_runs ORDER BY rule_id"
    ).fetchall()
    assert runs == [(first, "run-1", "R-1", "psm", "checks.a_rule", "ok", 1),
                    (first, "run-1", "R-2", "gdpr", "checks.b_rule", "failed", None)]  # fmt: skip
    build(conn, models["checks.after"])  # a model after the union reads the record of its rules
    assert conn.execute("SELECT count(*) FROM checks.after").fetchall() == [(2,)]


def test_a_union_whose_every_rule_fails_keeps_its_shape_or_fails_on_its_first_build(tmp_path):
    conn = duckdb.connect()
    conn.execute(
        "CREATE SCHEMA raw; CREATE TABLE raw.sales_orders (order_id VARCHAR, tenant_id VARCHAR, customer_id VARCHAR)"
    )
    models = {m.relation: m for m in _rules_folder(tmp_path, "from raw.sales_orders")}
    union = models["checks.findings"]
    build(conn, union)
    conn.execute("DROP TABLE raw.sales_orders")  # now every rule fails
    built = build(conn, union)
    assert [m.status for m in built.members] == ["failed", "failed"]
    assert conn.execute("SELECT count(*) FROM checks.findings").fetchall() == [(0,)]
    conn.execute("DROP TABLE checks.findings")
    with pytest.raises(duckdb.Error, match="every rule failed and no earlier version exists"):
        build(conn, union)


def test_a_failing_rule_fails_its_asset_and_the_run_but_not_the_union_or_what_follows_in_dagster(tmp_path):
    root = tmp_path / "sql"
    _rules_folder(root, "from raw.sales_orders where error('boom') is null")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as conn:
        conn.execute("CREATE SCHEMA raw; CREATE TABLE raw.sales_orders (order_id VARCHAR, tenant_id VARCHAR, "
                     "customer_id VARCHAR); INSERT INTO raw.sales_orders VALUES ('o1', 't', 'c1')")  # fmt: skip
    result = dg.materialize(
        load_sql_assets(root, EXTERNAL), resources={"warehouse": Warehouse(home=str(tmp_path))}, raise_on_error=False
    )
    assert not result.success
    assert [e.step_key for e in result.get_step_failure_events()] == ["checks__b_rule"]
    done = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"checks/a_rule", "checks/findings", "checks/after"} <= done
    checks = {
        e.check_name: e
        for e in result.get_asset_check_evaluations()
        if e.asset_key.to_user_string() == "checks/findings"
    }
    assert not checks["every_rule_evaluated"].passed
    assert checks["every_rule_evaluated"].severity == dg.AssetCheckSeverity.ERROR
    assert checks["every_rule_evaluated"].metadata["stale_areas"].value == ["gdpr"]
    assert checks["unique_entity_id"].passed
