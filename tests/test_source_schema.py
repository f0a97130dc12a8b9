"""The contract DDL on a real PostgreSQL 15 and a real SQLite file."""

import sqlalchemy as sa

from neuroerp.contract import DOMAINS, TABLES, ColumnType
from neuroerp.source.database import (
    contract_deviations,
    create_schema,
    create_source_engine,
    missing_tables,
    qualified_name,
)

PG_TYPES = {
    ColumnType.TEXT: "text",
    ColumnType.JSON_TEXT: "text",
    ColumnType.UUID: "uuid",
    ColumnType.BOOL: "boolean",
    ColumnType.INT: "integer",
    ColumnType.BIGINT: "bigint",
    ColumnType.MONEY: "numeric",
    ColumnType.QUANTITY: "numeric",
    ColumnType.PERCENT: "numeric",
    ColumnType.TIMESTAMPTZ: "timestamp with time zone",
    ColumnType.TIMESTAMP: "timestamp without time zone",
    ColumnType.DATE: "date",
    ColumnType.JSONB: "jsonb",
}


def test_postgres_is_version_15(pg_url):
    engine = create_source_engine(pg_url)
    with engine.connect() as conn:
        version = conn.execute(sa.text("SHOW server_version_num")).scalar_one()
    assert 150000 <= int(version) < 160000


def test_postgres_schema_has_every_domain_table_and_type(pg_url):
    engine = create_source_engine(pg_url)
    assert len(missing_tables(engine)) == len(TABLES)
    create_schema(engine)
    assert missing_tables(engine) == []
    assert contract_deviations(engine) == []
    with engine.connect() as conn:
        schemas = set(conn.execute(sa.text("SELECT schema_name FROM information_schema.schemata")).scalars())
        assert set(DOMAINS) <= schemas
        rows = conn.execute(
            sa.text(
                "SELECT table_schema, table_name, column_name, data_type, is_nullable, numeric_precision, "
                "numeric_scale FROM information_schema.columns WHERE table_schema = ANY(:s)"
            ),
            {"s": list(DOMAINS)},
        ).all()
    columns = {(r.table_schema, r.table_name, r.column_name): r for r in rows}
    for spec in TABLES:
        for col in spec.columns:
            r = columns[(spec.domain, spec.name, col.name)]
            assert r.data_type == PG_TYPES[col.type], (spec.name, col.name, r.data_type)
            if col.type.numeric_precision:
                assert (r.numeric_precision, r.numeric_scale) == col.type.numeric_precision
            # keys only: every other column admits NULL so that bad rows can be inserted
            assert (r.is_nullable == "NO") == (col.name in spec.primary_key), (spec.name, col.name)


def test_postgres_schema_creation_is_idempotent(pg_url):
    engine = create_source_engine(pg_url)
    create_schema(engine)
    create_schema(engine)
    assert contract_deviations(engine) == []


def test_postgres_primary_keys_reject_duplicates_unless_built_without(pg_url):
    engine = create_source_engine(pg_url)
    create_schema(engine, with_primary_keys=False)
    insert = sa.text("INSERT INTO crm.customers (customer_id, tenant_id) VALUES ('c1', 't')")
    with engine.begin() as conn:
        conn.execute(insert)
        conn.execute(insert)
        assert conn.execute(sa.text("SELECT count(*) FROM crm.customers")).scalar_one() == 2


def test_sqlite_schema_has_every_table_in_main(sqlite_url):
    engine = create_source_engine(sqlite_url)
    create_schema(engine)
    assert missing_tables(engine) == []
    assert contract_deviations(engine) == []
    inspector = sa.inspect(engine)
    for spec in TABLES:
        names = [c["name"] for c in inspector.get_columns(spec.name)]
        assert names == spec.column_names
        assert inspector.get_pk_constraint(spec.name)["constrained_columns"] == list(spec.primary_key)


def test_sqlite_keys_are_enforced(sqlite_url):
    engine = create_source_engine(sqlite_url)
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO staff (staff_id, tenant_id) VALUES ('s1', 't')"))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO staff (staff_id, tenant_id) VALUES ('s1', 't')"))
    except sa.exc.IntegrityError:
        pass
    else:
        raise AssertionError("duplicate primary key accepted")


def test_deviations_name_the_missing_column(sqlite_url):
    engine = create_source_engine(sqlite_url)
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE suppliers DROP COLUMN iban"))
        conn.execute(sa.text("DROP TABLE event_locks"))
    problems = contract_deviations(engine)
    assert "purchasing.suppliers lacks columns iban" in problems
    assert "missing table eventbus.event_locks" in problems


def test_qualified_names_per_dialect():
    spec = TABLES[0]
    assert qualified_name("postgresql", spec) == "crm.customers"
    assert qualified_name("sqlite", spec) == "customers"
