"""Values PostgreSQL and SQLite accept that a naive binary read cannot carry: each row either loads
exactly or waits in quarantine with a true reason naming its column; the rest of its table loads,
and nothing downstream is skipped.

Tried on PostgreSQL 15 (through the real `neuroerp materialize`, everything downstream included):
NaN in numeric(14,2), numeric(14,3) and numeric(6,3); ±infinity in timestamptz, timestamp and
date (an audit row's instant among them, which GoBD fingerprints at the source); a year beyond 9999 and a date before year 1; jsonb nested 10,000 and 128 deep (quarantined:
deeper than the 127 levels loaded) and 127 deep (loads); jsonb holding 1e400 (loads, exact);
numeric(14,2) at its limits (loads, exact); a source that declares its numerics wider than the
contract (`numeric`, `double precision`): ±Infinity, 1e30, more decimals than the contract holds,
and exact values with trailing zeros; a 1 MB text and a 300 KB JSON value (row_json capped, the
whole row's hash and length kept); latin-1 bytes in the text of a SQL_ASCII database.
On SQLite: a NUL character inside text (loads, exact), more decimals than the column holds, a
REAL out of range, an infinite REAL, the largest money value (loads, exact), JSON nested 10,000
deep, and a five-digit year.
"""

import hashlib
import json
import uuid

import duckdb
import psycopg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable

from neuroerp.contract import table
from neuroerp.ingest import QUARANTINE, ingest_table, reader_for
from neuroerp.ingest.readers import UNLOADABLE, Selection, UnloadableValues
from neuroerp.ingest.store import MAX_QUARANTINED_VALUE
from neuroerp.ingest.validation import MAX_JSON_DEPTH
from neuroerp.seed import seed_source
from neuroerp.source.database import create_source_engine
from neuroerp.source.schema import METADATA
from pipelines.cli import main
from tests.conftest import AS_OF, SEED, fresh_database
from tests.ingest.conftest import execute, ingest_all
from tests.ingest.test_bad_input import clone

UUID = "00000000-0000-4000-8000-0000000000{:02x}".format
# the next audit sequence number (a far-off one would open a gap, GOBD-002's finding where the ERP
# guarantees gapless numbers; that rule's concern, tested there, not the ingest's)
NEXT_SEQ = "(SELECT max(seq) + 1 FROM audit.audit_log)"
DEEP = "(repeat('[', {n}) || repeat(']', {n}))"

# (case, table, overrides, expected reason, source_pk)
PG_QUARANTINED = [
    ("NaN money", "invoices", {"invoice_id": "'nan-net'", "net_amount": "'NaN'"}, "net_amount: NaN is not a number", "nan-net"),
    ("NaN quantity", "sales_order_lines", {"line_id": "'nan-qty'", "quantity": "'NaN'"}, "quantity: NaN is not a number", "nan-qty"),
    ("NaN percent", "articles", {"article_id": "'nan-pct'", "n_total_pct": "'NaN'"}, "n_total_pct: NaN is not a number", "nan-pct"),
    ("infinity timestamptz", "payments", {"payment_id": "'inf-updated'", "updated_at": "'infinity'"}, "updated_at: infinity is not a finite timestamp", "inf-updated"),
    ("-infinity timestamptz", "customers", {"customer_id": "'neg-inf'", "customer_no": "'K-INF'", "created_at": "'-infinity'"}, "created_at: -infinity is not a finite timestamp", "neg-inf"),
    ("infinity date", "invoices", {"invoice_id": "'inf-date'", "invoice_date": "'infinity'"}, "invoice_date: infinity is not a finite date", "inf-date"),
    ("-infinity date", "payments", {"payment_id": "'neg-inf-paid'", "paid_on": "'-infinity'"}, "paid_on: -infinity is not a finite date", "neg-inf-paid"),
    ("infinity timestamp without zone", "outbox_events", {"id": f"'{UUID(1)}'", "created_at": "'infinity'"}, "created_at: infinity is not a finite timestamp", UUID(1)),
    ("year beyond 9999", "sales_orders", {"order_id": "'far-future'", "ordered_at": "'294276-12-31 23:59:59+00'"}, "ordered_at: 294276-12-31", "far-future"),
    ("date before year 1", "customer_certificates", {"certificate_id": "'bc'", "issued_on": "'0044-03-15 BC'"}, "issued_on: 0044-03-15 BC is outside the years 1 to 9999", "bc"),
    ("jsonb 10,000 deep", "audit_log", {"seq": NEXT_SEQ, "occurred_at": "'infinity'", "after": f"{DEEP.format(n=10_000)}::jsonb"}, f"after: JSON nested deeper than {MAX_JSON_DEPTH} levels (depth 10000)", NEXT_SEQ),
    ("jsonb 128 deep", "saga_state", {"saga_id": f"'{UUID(2)}'", "payload": f"{DEEP.format(n=128)}::jsonb"}, f"payload: JSON nested deeper than {MAX_JSON_DEPTH} levels (depth 128)", UUID(2)),
    # the source declares these wider than the contract (numeric, double precision): see _plant_pg
    ("Infinity in unconstrained numeric", "payments", {"payment_id": "'amount-inf'", "amount": "'Infinity'"}, "amount: Infinity is not a finite number", "amount-inf"),
    ("-Infinity in unconstrained numeric", "payments", {"payment_id": "'amount-neg-inf'", "amount": "'-Infinity'"}, "amount: -Infinity is not a finite number", "amount-neg-inf"),
    ("too many digits", "payments", {"payment_id": "'amount-huge'", "amount": "1e30"}, "amount: 1000000000000000000000000000000 is out of range for numeric(14,2)", "amount-huge"),
    ("just over the largest money", "payments", {"payment_id": "'amount-over'", "amount": "1000000000000.00"}, "amount: 1000000000000.00 is out of range for numeric(14,2)", "amount-over"),
    ("too many decimals", "payments", {"payment_id": "'amount-cents'", "amount": "1.005"}, "amount: 1.005 has more decimal places than numeric(14,2) holds (2)", "amount-cents"),
    ("NaN in double precision", "payments", {"payment_id": "'skonto-nan'", "skonto_amount": "'NaN'"}, "skonto_amount: NaN is not a number", "skonto-nan"),
    ("1 MB text", "articles", {"article_id": "'mega-text'", "description": "repeat('Ä', 1000000)"}, "description: text longer than 10000 characters", "mega-text"),
    ("300 KB JSON with a dangling reference", "saga_steps", {"id": f"'{UUID(3)}'", "saga_id": f"'{UUID(4)}'", "input_data": """jsonb_build_object('x', repeat('y', 300000))"""}, f"saga_id: {UUID(4)} not found in eventbus.saga_state", UUID(3)),
]  # fmt: skip

# (case, table, overrides, key column, key, column, the value as PostgreSQL prints it)
PG_LOADED = [
    ("jsonb 127 deep", "saga_state", {"saga_id": f"'{UUID(5)}'", "payload": f"{DEEP.format(n=127)}::jsonb"}, "saga_id", UUID(5), "payload", "[" * 127 + "]" * 127),
    ("jsonb number beyond a float", "idempotency_keys", {"key": "'big-number'", "result": """'{"total": 1e400}'::jsonb"""}, "key", "big-number", "result", '{"total": 1' + "0" * 400 + "}"),
    ("largest money", "invoices", {"invoice_id": "'max-net'", "net_amount": "999999999999.99", "tax_amount": "-999999999999.99"}, "invoice_id", "max-net", "net_amount", "999999999999.99"),
    ("smallest money", "invoices", {"invoice_id": "'min-tax'", "tax_amount": "-999999999999.99"}, "invoice_id", "min-tax", "tax_amount", "-999999999999.99"),
    ("largest money in unconstrained numeric", "payments", {"payment_id": "'amount-max'", "amount": "-999999999999.99"}, "payment_id", "amount-max", "amount", "-999999999999.99"),
    ("trailing zeros in unconstrained numeric", "payments", {"payment_id": "'amount-exact'", "amount": "12.50000"}, "payment_id", "amount-exact", "amount", "12.50"),
    ("0.1 as double precision", "payments", {"payment_id": "'skonto-tenth'", "skonto_amount": "0.1"}, "payment_id", "skonto-tenth", "skonto_amount", "0.10"),
]  # fmt: skip


def _plant_pg(url: str) -> None:
    seed_source(url, scale=0.01, seed=SEED, as_of=AS_OF, create_schema=True)
    # a source may declare its columns wider than the contract: then more than NaN can arrive
    execute(
        url,
        "ALTER TABLE finance.payments ALTER COLUMN amount TYPE numeric",
        "ALTER TABLE finance.payments ALTER COLUMN skonto_amount TYPE double precision",
    )
    execute(url, *[clone(url, case[1], case[2]) for case in PG_QUARANTINED + PG_LOADED])


@pytest.fixture(scope="module")
def hostile_pg_run(postgres_admin_url, tmp_path_factory):
    """The hostile source materialised once, everything downstream included, as a user runs it."""
    with fresh_database(postgres_admin_url) as url:
        _plant_pg(url)
        home = tmp_path_factory.mktemp("hostile_pg")
        env = {"NEUROERP_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "NEUROERP_SOURCE_URL": url}
        result = CliRunner().invoke(main, ["materialize", "--as-of", AS_OF.isoformat()], env=env)
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
            yield url, conn, result


def _key(conn, pk: str) -> str:
    if pk == NEXT_SEQ:  # the planted audit row is the last; raw holds the one before it
        return str(conn.execute("SELECT max(seq) + 1 FROM raw.audit_log").fetchone()[0])
    return pk


def _quarantined(conn, table_name: str, pk: str) -> list[dict]:
    pk = _key(conn, pk)
    names = ["reasons", "row_json", "row_hash", "row_length"]
    rows = conn.execute(
        f"SELECT {', '.join(names)} FROM {QUARANTINE} WHERE source_table = ? AND source_pk = ?", [table_name, pk]
    ).fetchall()
    return [dict(zip(names, r, strict=True)) for r in rows]


def _waits_because(conn, table_name: str, pk: str, reason: str) -> None:
    """One quarantine row for the key, with the reason (and no false one), the row readable."""
    (row,) = _quarantined(conn, table_name, pk)
    assert reason in row["reasons"], row["reasons"]
    assert "not valid JSON" not in row["reasons"]
    assert json.loads(row["row_json"])


def _source_count(url: str, table_name: str, schema: str) -> int:
    engine = create_source_engine(url)
    with engine.connect() as conn:
        n = conn.execute(sa.text(f"SELECT count(*) FROM {schema}.{table_name}")).scalar()
    engine.dispose()
    return n


def test_the_run_succeeds_and_nothing_downstream_is_skipped(hostile_pg_run):
    _, conn, result = hostile_pg_run
    assert result.exit_code == 0, result.output
    assert "FAILED" not in result.output and "not run" not in result.output
    # the compliance engine ran to its end on the rest of the data
    assert conn.execute("SELECT count(*) FROM compliance.area_scores").fetchone()[0] > 0


@pytest.mark.parametrize("case", PG_QUARANTINED, ids=[c[0] for c in PG_QUARANTINED])
def test_postgres_value_the_binary_path_cannot_carry_is_quarantined_with_a_true_reason(hostile_pg_run, case):
    url, conn, _ = hostile_pg_run
    _, table_name, overrides, reason, pk = case
    _waits_because(conn, table_name, pk, reason)
    # the rest of the table loaded: raw + this table's quarantine = the source
    schema = conn.execute("SELECT domain FROM ops.source_profile WHERE table_name = ?", [table_name]).fetchone()[0]
    waiting = conn.execute(f"SELECT count(*) FROM {QUARANTINE} WHERE source_table = ?", [table_name]).fetchone()[0]
    loaded = conn.execute(f"SELECT count(*) FROM raw.{table_name}").fetchone()[0]
    assert loaded + waiting == _source_count(url, table_name, schema)
    key = next(iter(overrides))
    found = conn.execute(f"SELECT count(*) FROM raw.{table_name} WHERE CAST({key} AS VARCHAR) = ?", [_key(conn, pk)])
    assert found.fetchone()[0] == 0


@pytest.mark.parametrize(
    "table_name, meets",
    [("staff", None), ("invoices", "NaN"), ("customers", "outside the years"), ("sales_orders", "outside the years"),
     ("payments", "declared wider")],
)  # fmt: skip
def test_clean_tables_take_the_fast_read_and_hostile_ones_are_read_again_guarded(hostile_pg_run, table_name, meets):
    """The fast read ships the plain casts (no guards, no flag column); it stops at the first value
    it cannot carry (a NaN fails the query, a wrapped infinity shows in the batch's range). A source
    that declares its numerics wider than the contract is always read guarded."""
    url, _, _ = hostile_pg_run
    reader = reader_for(url)
    with reader.connect() as conn:
        fast = reader.batches(conn, table(table_name), Selection(full=True), 200_000, guarded=False)
        if meets is None:
            assert all(UNLOADABLE not in frame.columns for frame in fast)
        elif meets == "declared wider":
            assert all(UNLOADABLE in frame.columns for frame in fast)
        else:
            with pytest.raises(UnloadableValues, match=meets):
                list(fast)
    with reader.connect() as conn:  # a failed query leaves its connection unusable: the ingest opens another
        guarded = list(reader.batches(conn, table(table_name), Selection(full=True), 200_000, guarded=True))
        assert all(UNLOADABLE in frame.columns for frame in guarded)


def test_the_row_as_read_shows_what_postgresql_holds(hostile_pg_run):
    url, conn, _ = hostile_pg_run
    (nan,) = _quarantined(conn, "invoices", "nan-net")
    shown = json.loads(nan["row_json"])
    assert shown["net_amount"] == "NaN"
    engine = create_source_engine(url)
    with engine.connect() as source:
        tax = source.execute(sa.text("SELECT tax_amount::text FROM finance.invoices WHERE invoice_id = 'nan-net'"))
        assert shown["tax_amount"] == tax.scalar()  # the exact decimal, not the scaled integer the driver carried
    engine.dispose()
    (inf,) = _quarantined(conn, "payments", "inf-updated")
    assert json.loads(inf["row_json"])["updated_at"] == "infinity"


def test_an_audit_row_at_infinity_is_quarantined_and_still_fingerprinted(hostile_pg_run):
    """GoBD fingerprints every audit row at the source: the hostile one too, without its instant."""
    _, conn, _ = hostile_pg_run
    (row,) = _quarantined(conn, "audit_log", NEXT_SEQ)
    assert "occurred_at: infinity is not a finite timestamp" in row["reasons"]
    seq = int(_key(conn, NEXT_SEQ))
    fingerprint = conn.execute(
        "SELECT occurred_at, first_fingerprint FROM compliance.audit_fingerprints WHERE seq = ?", [seq]
    ).fetchone()
    assert fingerprint[0] is None and len(fingerprint[1]) == 32


@pytest.mark.parametrize("case", PG_LOADED, ids=[c[0] for c in PG_LOADED])
def test_postgres_value_that_fits_loads_exactly(hostile_pg_run, case):
    _, conn, _ = hostile_pg_run
    _, table_name, _, key_column, key, column, expected = case
    (value,) = conn.execute(
        f"SELECT CAST({column} AS VARCHAR) FROM raw.{table_name} WHERE CAST({key_column} AS VARCHAR) = ?", [key]
    ).fetchone()
    assert value == expected
    assert not _quarantined(conn, table_name, key)


@pytest.mark.parametrize(
    "table_name, pk, column, size",
    [("articles", "mega-text", "description", 1_000_000), ("saga_steps", UUID(3), "input_data", len('{"x": ""}') + 300_000)],
    ids=["invalid row (text too long)", "valid row moved by a dangling reference"],
)  # fmt: skip
def test_quarantined_row_json_is_capped_but_hash_and_length_are_of_the_whole_row(
    hostile_pg_run, table_name, pk, column, size
):
    _, conn, _ = hostile_pg_run
    (row,) = _quarantined(conn, table_name, pk)
    kept = json.loads(row["row_json"])[column]
    assert kept.endswith(f"… [cut: {size} characters in all]")
    assert len(kept) == MAX_QUARANTINED_VALUE + len(f"… [cut: {size} characters in all]")
    assert len(row["row_json"]) < MAX_QUARANTINED_VALUE + 10_000
    # the whole row's length: the stored row with the cut value put back whole
    whole = len(row["row_json"]) - len(json.dumps(kept, ensure_ascii=False)) + size + 2
    if table_name == "articles":  # a text value: quoted in the row
        assert row["row_length"] == whole
    else:  # a JSON value: embedded in the row as JSON (DuckDB drops its insignificant spaces)
        assert whole - 10 < row["row_length"] < whole
    assert row["row_hash"] != hashlib.md5(row["row_json"].encode()).hexdigest()  # not the hash of the cut text


# ---------------------------------------------------------------------------------- SQLite

SQLITE_QUARANTINED = [
    ("more decimals than the column", "invoices", {"invoice_id": "'cents'", "net_amount": "'12.345'"}, "net_amount: 12.345 has more decimal places than numeric(14,2) holds (2)", "cents"),
    ("REAL out of range", "invoices", {"invoice_id": "'huge'", "net_amount": "1e20"}, "net_amount: 1.0e+20 is out of range for numeric(14,2)", "huge"),
    ("just over the largest money", "invoices", {"invoice_id": "'over'", "net_amount": "1000000000000"}, "net_amount: 1000000000000 is out of range for numeric(14,2)", "over"),
    ("infinite REAL", "invoices", {"invoice_id": "'sqlite-inf'", "gross_amount": "9e999"}, "gross_amount: Inf is not a finite number", "sqlite-inf"),
    ("JSON 10,000 deep", "audit_log", {"seq": "(SELECT max(seq) + 1 FROM audit_log)", "after": "printf('%.*c', 10000, '[') || printf('%.*c', 10000, ']')"}, f"after: JSON nested deeper than {MAX_JSON_DEPTH} levels (depth 10000)", NEXT_SEQ),
    ("five-digit year", "invoices", {"invoice_id": "'y10k'", "invoice_date": "'10000-01-01'"}, "invoice_date: 10000-01-01 is not a valid date", "y10k"),
]  # fmt: skip


@pytest.fixture(scope="module")
def hostile_sqlite(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile_sqlite")
    url = f"sqlite:///{folder / 'erp.sqlite'}"
    seed_source(url, scale=0.01, seed=SEED, as_of=AS_OF, create_schema=True)
    execute(
        url,
        *[clone(url, t, o, where="1") for _, t, o, _, _ in SQLITE_QUARANTINED],
        clone(url, "customers", {"customer_id": "'nul'", "customer_no": "'K-NUL'", "name": "'Mül' || char(0) || 'ler'"}, where="1"),
        clone(url, "invoices", {"invoice_id": "'sqlite-max'", "net_amount": "999999999999.99"}, where="1"),
    )  # fmt: skip
    conn = duckdb.connect(str(folder / "warehouse.duckdb"))
    yield url, conn, ingest_all(url, conn)
    conn.close()


@pytest.mark.parametrize("case", SQLITE_QUARANTINED, ids=[c[0] for c in SQLITE_QUARANTINED])
def test_sqlite_value_that_does_not_fit_is_quarantined_with_a_true_reason(hostile_sqlite, case):
    _, conn, stats = hostile_sqlite
    _, table_name, _, reason, pk = case
    _waits_because(conn, table_name, pk, reason)
    assert stats[table_name].balanced


def test_sqlite_values_that_fit_load_exactly(hostile_sqlite):
    _, conn, _ = hostile_sqlite
    assert conn.execute("SELECT name FROM raw.customers WHERE customer_id = 'nul'").fetchone()[0] == "Mül\x00ler"
    assert str(conn.execute("SELECT net_amount FROM raw.invoices WHERE invoice_id = 'sqlite-max'").fetchone()[0]) == (
        "999999999999.99"
    )


# ------------------------------------------------------------------------ SQL_ASCII PostgreSQL


def test_text_that_is_not_utf8_in_a_sql_ascii_database(postgres_admin_url, tmp_path):
    """A legacy ERP database in SQL_ASCII stores whatever bytes a client sent: latin-1 among UTF-8."""
    name = f"t_ascii_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' TEMPLATE template0 LOCALE 'C'"))
    url = sa.engine.make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        customers = CreateTable(METADATA.tables["crm.customers"]).compile(dialect=postgresql.dialect())
        fixed = "'t1', 'farm', true, 'Weg 1', '26121', 'Oldenburg', 'NI', 'DE', now(), now()"
        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as source:  # SQLAlchemy wants UTF-8
            source.execute("CREATE SCHEMA crm")
            source.execute(str(customers))
            source.execute(
                "INSERT INTO crm.customers (customer_id, customer_no, name, tenant_id, customer_type, is_professional, "
                "street, postal_code, city, state_code, country_code, created_at, updated_at) VALUES "
                f"('utf8', 'K1', 'Müller', {fixed}), ('latin1', 'K2', E'M\\xfcller', {fixed})".encode()
            )  # the UTF-8 bytes of 'Müller' as they are, and latin-1's 0xfc
        with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as conn:
            stats = ingest_table(reader_for(url), conn, table("customers"))
            assert conn.execute("SELECT name FROM raw.customers").fetchall() == [("Müller",)]
            (bad,) = _quarantined(conn, "customers", "latin1")
        assert bad["reasons"] == "name: text is not valid UTF-8"
        assert "4dfc6c6c6572" in bad["row_json"]  # the bytes are kept (hex)
        assert stats.rows_read == 2 and stats.balanced
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_an_identifier_with_a_double_quote_stays_one_identifier():
    """Column names come from the contract, but the quoting must not depend on that."""
    from neuroerp.ingest.types import quote

    name = 'Menge "netto"'
    conn = duckdb.connect()
    cursor = conn.execute(f"SELECT 1 AS {quote(name)}")
    assert [d[0] for d in cursor.description] == [name]
