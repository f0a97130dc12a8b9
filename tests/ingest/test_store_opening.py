"""What a run of one table does before and after it reads, in the fewest DuckDB statements.

A run asks the warehouse one question when it starts (DDL version, raw table, leftover scratch
tables, absent columns, quarantine, state) and makes scratch tables only when it uses them. Bad
states tried: a warehouse of an older DDL version missing a column, a raw table dropped behind
the ingest's back, on-disk scratch tables a run that died after its commit left (with another
table's leftover beside them), and optional columns the source lacked and then gained.
"""

import duckdb

from neuroerp.contract import table
from neuroerp.ingest import ingest_table, reader_for
from neuroerp.ingest.store import DDL_VERSION
from neuroerp.source.database import qualified_name
from tests.ingest.conftest import execute

CUSTOMERS = table("customers")


def _tables(conn, schema: str) -> set[str]:
    return {
        r[0] for r in conn.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = ?", [schema]).fetchall()
    }


def _temp_tables(conn) -> set[str]:
    return {r[0] for r in conn.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}


def test_an_older_warehouse_and_a_dropped_raw_table_are_made_current_before_the_run(seeded_sqlite, warehouse):
    reader = reader_for(seeded_sqlite)
    ingest_table(reader, warehouse, CUSTOMERS)
    warehouse.execute("ALTER TABLE ops.ingest_runs DROP COLUMN why")
    warehouse.execute("UPDATE ops.ingest_ddl SET version = 'older'")
    stats = ingest_table(reader, warehouse, CUSTOMERS)
    assert warehouse.execute("SELECT max(version) FROM ops.ingest_ddl").fetchone()[0] == DDL_VERSION
    assert warehouse.execute("SELECT why FROM ops.ingest_runs WHERE why IS NOT NULL").fetchall() == [(stats.why,)]
    warehouse.execute("DROP TABLE raw.customers")
    ingest_table(reader, warehouse, CUSTOMERS)  # the table is made again (and stays empty until a full read)
    assert "customers" in _tables(warehouse, "raw")


def test_a_run_drops_the_scratch_tables_a_run_that_died_after_its_commit_left(seeded_sqlite, warehouse):
    reader = reader_for(seeded_sqlite)
    ingest_table(reader, warehouse, CUSTOMERS)
    warehouse.execute("CREATE SCHEMA IF NOT EXISTS scratch")
    for name in ("customers__ok", "customers__seen", "customer_certificates__ok"):
        warehouse.execute(f'CREATE TABLE scratch."{name}" AS SELECT 1 AS x')
    ingest_table(reader, warehouse, CUSTOMERS)
    assert _tables(warehouse, "scratch") == {"customer_certificates__ok"}  # another table's: left to its run
    ingest_table(reader, warehouse, table("customer_certificates"))
    assert _tables(warehouse, "scratch") == set()


def test_an_unchanged_table_makes_no_scratch_table_and_a_changed_one_drops_what_it_made(seeded_pg, warehouse):
    reader = reader_for(seeded_pg)
    ingest_table(reader, warehouse, CUSTOMERS)
    made: list[str] = []
    traced = _Traced(warehouse, made)
    assert ingest_table(reader, traced, CUSTOMERS).rows_read == 0
    assert not [s for s in made if "CREATE" in s or "DROP" in s]
    execute(
        seeded_pg,
        f"UPDATE {qualified_name('postgresql', CUSTOMERS)} SET name = name || ' GmbH' WHERE customer_id IN "
        f"(SELECT customer_id FROM {qualified_name('postgresql', CUSTOMERS)} ORDER BY customer_id LIMIT 2)",
    )
    assert ingest_table(reader, traced, CUSTOMERS).rows_upserted == 2
    assert [s for s in made if "CREATE" in s] and _temp_tables(warehouse) == set()


class _Traced:
    """The warehouse connection, noting each statement (the ingest's own calls, unchanged)."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, seen: list[str]) -> None:
        self._conn, self._seen = conn, seen

    def execute(self, sql, *args):
        self._seen.append(sql)
        return self._conn.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._conn, name)
