"""Bad input is quarantined with a clear reason while the run goes on; nothing is lost.

Classes of bad input tried here (PostgreSQL without key constraints, and SQLite):
null key, duplicate key, missing required field, unknown enum value, invalid ISO country,
invalid German Land, malformed JSON (text and jsonb), dangling foreign key, implausible future
timestamp, oversized text, wrong type, non-UTF-8 text, naive timestamp, impossible date,
malformed UUID, unreadable boolean.
Domain-rule breaks (malformed BVL number, invalid IBAN) are not bad input and reach raw.
"""

import json
import sqlite3

import duckdb
import pytest
import sqlalchemy as sa

from neuroerp.contract import table
from neuroerp.ingest import QUARANTINE
from neuroerp.seed import seed_source
from neuroerp.source.database import create_schema, create_source_engine, qualified_name
from tests.conftest import AS_OF, SEED, fresh_database
from tests.ingest.conftest import execute, ingest_all


def clone(url: str, table_name: str, overrides: dict[str, str], where: str = "TRUE") -> str:
    """INSERT a copy of one existing row with some columns replaced by SQL expressions."""
    spec = table(table_name)
    dialect = sa.engine.make_url(url).get_backend_name()
    name = qualified_name(dialect, spec)
    cols = ", ".join(f'"{c}"' for c in spec.column_names)
    values = ", ".join(overrides.get(c, f'"{c}"') for c in spec.column_names)
    order = " ORDER BY " + ", ".join(f'"{k}"' for k in spec.primary_key)
    return f"INSERT INTO {name} ({cols}) SELECT {values} FROM {name} WHERE {where}{order} LIMIT 1"


def _seed_without_keys(url: str) -> None:
    create_schema(create_source_engine(url), with_primary_keys=False)
    seed_source(url, scale=0.01, seed=SEED, as_of=AS_OF)


PG_CASES = [
    # (case, table, overrides, expected reason, source_pk)
    ("null key", "customers", {"customer_id": "NULL", "customer_no": "'K-NULL'"}, "customer_id: missing primary key", None),
    ("missing required", "customers", {"customer_id": "'bad-name'", "name": "NULL"}, "name: missing required value", "bad-name"),
    ("unknown enum", "customers", {"customer_id": "'bad-type'", "customer_type": "'alien'"}, "customer_type: unknown value", "bad-type"),
    ("invalid country", "customers", {"customer_id": "'bad-country'", "country_code": "'XX'"}, "country_code: not an ISO 3166 country code", "bad-country"),
    ("invalid land", "customers", {"customer_id": "'bad-land'", "state_code": "'ZZ'"}, "state_code: not a German Land code", "bad-land"),
    ("malformed json", "outbox_events", {"id": "'00000000-0000-4000-8000-000000000001'", "payload": "'{bad'"}, "payload: not valid JSON", "00000000-0000-4000-8000-000000000001"),
    ("dangling reference", "consents", {"consent_id": "'orphan'", "customer_id": "'nobody'"}, "customer_id: nobody not found in crm.customers", "orphan"),
    ("future timestamp", "staff", {"staff_id": "'time-traveller'", "updated_at": "'2999-01-01T00:00:00Z'"}, "updated_at: implausible timestamp", "time-traveller"),
    ("oversized text", "articles", {"article_id": "'huge'", "description": "repeat('Dünger ', 3000)"}, "description: text longer than 10000 characters", "huge"),
]  # fmt: skip


def _plant_pg(url: str) -> None:
    _seed_without_keys(url)
    statements = [clone(url, t, o) for _, t, o, _, _ in PG_CASES]
    # a duplicate key: the same customer twice with different content
    statements.append(clone(url, "customers", {"name": "'Zweitschrift'"}, where="customer_no = 'K200003'"))
    statements.append(clone(url, "customers", MANY_DEFECTS))
    execute(url, *statements)


# one row with three defects at once: every reason is kept, not the first alone
MANY_DEFECTS = {"customer_id": "'bad-thrice'", "name": "NULL", "customer_type": "'alien'", "country_code": "'XX'"}


@pytest.fixture
def bad_pg(pg_url):
    _plant_pg(pg_url)
    return pg_url


@pytest.fixture(scope="module")
def bad_pg_loaded(postgres_admin_url, tmp_path_factory):
    """One bad source ingested once, for the read-only assertions."""
    with fresh_database(postgres_admin_url) as url:
        _plant_pg(url)
        conn = duckdb.connect(str(tmp_path_factory.mktemp("bad_pg") / "warehouse.duckdb"))
        stats = ingest_all(url, conn)
        yield url, conn, stats
        conn.close()


def _quarantine(conn, source_table: str) -> list[dict]:
    rows = conn.execute(
        f"SELECT source_pk, reasons, row_json, first_seen_at, last_seen_at FROM {QUARANTINE} WHERE source_table = ?",
        [source_table],
    ).fetchall()
    return [
        dict(zip(["source_pk", "reasons", "row_json", "first_seen_at", "last_seen_at"], r, strict=True)) for r in rows
    ]


def _count(url: str, table_name: str) -> int:
    engine = create_source_engine(url)
    with engine.connect() as conn:
        n = conn.execute(
            sa.text(f"SELECT count(*) FROM {qualified_name(engine.dialect.name, table(table_name))}")
        ).scalar()
    engine.dispose()
    return n


def _assert_quarantined(loaded, case) -> None:
    """The bad row waits in quarantine with its reason and the row as read; the rest is in raw."""
    url, warehouse, stats = loaded
    _, table_name, _, reason, pk = case
    matches = [q for q in _quarantine(warehouse, table_name) if q["source_pk"] == pk and reason in q["reasons"]]
    assert matches, f"no quarantine row for {pk!r} with {reason!r}: {_quarantine(warehouse, table_name)}"
    assert json.loads(matches[0]["row_json"])
    s = stats[table_name]
    assert s.balanced and s.rows_quarantined >= 1
    # the run went on: every other row of the table is in raw
    loaded_rows = warehouse.execute(f"SELECT count(*) FROM raw.{table_name}").fetchone()[0]
    assert loaded_rows == _count(url, table_name) - s.rows_quarantined


@pytest.mark.parametrize("case", PG_CASES, ids=[c[0] for c in PG_CASES])
def test_postgres_bad_row_is_quarantined_with_its_reason(bad_pg_loaded, case):
    _assert_quarantined(bad_pg_loaded, case)


def test_a_row_with_several_defects_keeps_every_reason_and_its_values(bad_pg_loaded):
    _, warehouse, _ = bad_pg_loaded
    (row,) = [q for q in _quarantine(warehouse, "customers") if q["source_pk"] == "bad-thrice"]
    assert sorted(row["reasons"].split("; ")) == [
        "country_code: not an ISO 3166 country code (got XX)",
        "customer_type: unknown value (allowed: farm|contractor|retailer|cooperative|industry|private) (got alien)",
        "name: missing required value",
    ]
    as_read = json.loads(row["row_json"])
    assert set(as_read) == set(table("customers").column_names)
    assert (as_read["customer_id"], as_read["name"], as_read["customer_type"], as_read["country_code"]) == (
        "bad-thrice", None, "alien", "XX",
    )  # fmt: skip


def test_duplicate_keys_quarantine_every_copy(bad_pg_loaded):
    _, warehouse, _ = bad_pg_loaded
    dups = [q for q in _quarantine(warehouse, "customers") if "duplicate primary key: 2 source rows" in q["reasons"]]
    assert len(dups) == 2 and dups[0]["source_pk"] == dups[1]["source_pk"]
    assert (
        warehouse.execute(
            "SELECT count(*) FROM raw.customers WHERE customer_id = ?", [dups[0]["source_pk"]]
        ).fetchone()[0]
        == 0
    )


def test_domain_rule_breaks_are_not_bad_input(bad_pg_loaded, dataset):
    _, warehouse, _ = bad_pg_loaded
    planted = {p.rule: p.entity_id for p in dataset.planted}
    for rule, relation, key in (("PSM-003", "articles", "article_id"), ("FIN-002", "suppliers", "supplier_id")):
        found = warehouse.execute(f"SELECT count(*) FROM raw.{relation} WHERE {key} = ?", [planted[rule]]).fetchone()[0]
        assert found == 1, rule


def test_children_of_quarantined_parents_wait_too(bad_pg, warehouse):
    # a consent of the quarantined customer 'bad-type' references a row that is not in raw
    execute(bad_pg, clone(bad_pg, "consents", {"consent_id": "'child-of-bad'", "customer_id": "'bad-type'"}))
    ingest_all(bad_pg, warehouse)
    (child,) = [q for q in _quarantine(warehouse, "consents") if q["source_pk"] == "child-of-bad"]
    assert "customer_id: bad-type not found in crm.customers" in child["reasons"]


def test_fixed_rows_leave_quarantine_and_keep_their_history(bad_pg, warehouse):
    ingest_all(bad_pg, warehouse)
    first = {q["source_pk"]: q for q in _quarantine(warehouse, "customers")}
    execute(
        bad_pg,
        # fixed with a new updated_at
        "UPDATE crm.customers SET customer_type = 'farm', updated_at = now() WHERE customer_id = 'bad-type'",
        # fixed without touching updated_at: found anyway, quarantined keys are read again each run
        "UPDATE crm.customers SET country_code = 'DE' WHERE customer_id = 'bad-country'",
        # the parent of the orphan consent arrives
        clone(
            bad_pg, "customers", {"customer_id": "'nobody'", "customer_no": "'K-LATE'"}, where="customer_no = 'K200005'"
        ),
        # a quarantined row disappears from the source
        "DELETE FROM crm.customers WHERE customer_id = 'bad-land'",
    )
    ingest_all(bad_pg, warehouse)
    now = {q["source_pk"]: q for q in _quarantine(warehouse, "customers")}
    for pk in ("bad-type", "bad-country", "bad-land"):
        assert pk not in now
    for pk in ("bad-type", "bad-country"):
        assert warehouse.execute("SELECT count(*) FROM raw.customers WHERE customer_id = ?", [pk]).fetchone()[0] == 1
    assert warehouse.execute("SELECT count(*) FROM raw.consents WHERE consent_id = 'orphan'").fetchone()[0] == 1
    still = now["bad-name"]
    assert still["first_seen_at"] == first["bad-name"]["first_seen_at"]
    assert still["last_seen_at"] > first["bad-name"]["last_seen_at"]


# ---------------------------------------------------------------------------------- SQLite

SQLITE_CASES = [
    ("wrong type", "articles", {"article_id": "'abc-lead'", "lead_time_days": "'abc'"}, "lead_time_days: abc is not a valid int", "abc-lead"),
    ("naive timestamp", "payments", {"payment_id": "'naive'", "updated_at": "'2025-01-01 10:00:00'"}, "updated_at: timestamp 2025-01-01 10:00:00 has no time zone", "naive"),
    ("impossible date", "invoices", {"invoice_id": "'feb30'", "invoice_date": "'2025-02-30'"}, "invoice_date: 2025-02-30 is not a valid date", "feb30"),
    ("malformed uuid", "outbox_events", {"id": "'not-a-uuid'"}, "id: not a UUID", "not-a-uuid"),
    ("unreadable boolean", "staff", {"staff_id": "'maybe'", "active": "'maybe'"}, "active: maybe is not a valid bool", "maybe"),
    ("malformed jsonb", "audit_log", {"seq": "999999999", "after": "'{x'"}, "after: not valid JSON", "999999999"),
    ("number as text", "invoices", {"invoice_id": "'amount-text'", "gross_amount": "'zwölf'"}, "gross_amount: zwölf is not a valid numeric(14,2)", "amount-text"),
]  # fmt: skip


@pytest.fixture(scope="module")
def bad_sqlite_loaded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad_sqlite")
    url = _plant_sqlite(f"sqlite:///{folder / 'erp.sqlite'}")
    conn = duckdb.connect(str(folder / "warehouse.duckdb"))
    yield url, conn, ingest_all(url, conn)
    conn.close()


def _plant_sqlite(sqlite_url: str) -> str:
    _seed_without_keys(sqlite_url)
    execute(sqlite_url, *[clone(sqlite_url, t, o, where="1") for _, t, o, _, _ in SQLITE_CASES])
    path = sa.engine.make_url(sqlite_url).database
    with sqlite3.connect(path) as conn:  # bytes that are not UTF-8, as a legacy client wrote them
        conn.execute(clone(sqlite_url, "customers", {"customer_id": "'latin1'"}, where="1"))
        conn.execute("UPDATE customers SET name = ? WHERE customer_id = 'latin1'", ["Müller".encode("latin-1")])
    return sqlite_url


@pytest.mark.parametrize("case", SQLITE_CASES, ids=[c[0] for c in SQLITE_CASES])
def test_sqlite_bad_row_is_quarantined_with_its_reason(bad_sqlite_loaded, case):
    _assert_quarantined(bad_sqlite_loaded, case)


def test_sqlite_text_that_is_not_utf8(bad_sqlite_loaded):
    _, warehouse, _ = bad_sqlite_loaded
    (row,) = [q for q in _quarantine(warehouse, "customers") if q["source_pk"] == "latin1"]
    assert row["reasons"] == "name: text is not valid UTF-8"
    assert "4dfc6c6c6572" in row["row_json"]  # the bytes are kept (hex), nothing is lost
