"""Contract 1.1: a source that lacks the optional columns (an ERP not yet upgraded) still ingests.

The columns are read as null, ops.absent_columns names them (the rules that need them then do not
judge them), the run's metadata says so once, and when the ERP gains a column the table is read
whole again so that rows ingested before do not keep their nulls. On SQLite and on PostgreSQL
(fast and guarded reads). Bad inputs tried: every optional column dropped at once, a numeric, a
date and a text column among them, and a column that comes back.
"""

import duckdb
import pytest
import sqlalchemy as sa

from neuroerp.contract import TABLES, TABLES_BY_NAME
from neuroerp.ingest import IngestOptions, ingest_table, reader_for
from neuroerp.source.database import create_source_engine, qualified_name
from tests.ingest.conftest import ingest_all

OPTIONAL = {spec.name: spec.optional_columns for spec in TABLES if spec.optional_columns}


def _drop_optional(url: str) -> None:
    engine = create_source_engine(url)
    with engine.begin() as conn:
        for name, columns in OPTIONAL.items():
            for column in columns:
                table = qualified_name(engine.dialect.name, TABLES_BY_NAME[name])
                conn.execute(sa.text(f'ALTER TABLE {table} DROP COLUMN "{column}"'))
    engine.dispose()


def _check_absent(conn: duckdb.DuckDBPyConnection, stats: dict) -> None:
    assert {name: list(s.absent_columns) for name, s in stats.items() if s.absent_columns} == {
        name: sorted(columns) for name, columns in OPTIONAL.items()
    }
    recorded = conn.execute("SELECT table_name, column_name, since_version FROM ops.absent_columns").fetchall()
    assert sorted(recorded) == sorted((t, c, "1.1") for t, cs in OPTIONAL.items() for c in cs)
    for name, columns in OPTIONAL.items():
        assert stats[name].rows_read > 0 and stats[name].rows_quarantined == 0
        counts = conn.execute(f"SELECT {', '.join(f'count({c})' for c in columns)} FROM raw.{name}").fetchone()
        assert set(counts) == {0}, name  # read as null


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_source_without_the_optional_columns_ingests_them_as_null(request, backend, warehouse):
    url = request.getfixturevalue("seeded_sqlite" if backend == "sqlite" else "seeded_pg")
    _drop_optional(url)
    _check_absent(warehouse, ingest_all(url, warehouse))
    # the guarded read (the one for tables with rows in quarantine) takes them as well
    spec = TABLES_BY_NAME["manure_deliveries"]
    reader = reader_for(url)
    with reader.connect() as source:
        assert reader.absent_columns(source, spec) == ("n_animal_kg_per_t",)
        frames = list(reader.batches(source, spec, _everything(), 1000, guarded=True))
    assert frames and all(f["n_animal_kg_per_t"].null_count() == f.height for f in frames)


def test_a_column_the_erp_gains_is_read_whole_again(seeded_sqlite, warehouse):
    _drop_optional(seeded_sqlite)
    ingest_all(seeded_sqlite, warehouse)
    engine = create_source_engine(seeded_sqlite)
    with engine.begin() as conn:
        conn.execute(sa.text('ALTER TABLE manure_deliveries ADD COLUMN "n_animal_kg_per_t" NUMERIC(14,3)'))
        conn.execute(sa.text("UPDATE manure_deliveries SET n_animal_kg_per_t = n_kg_per_t"))  # no updated_at change
    engine.dispose()
    spec = TABLES_BY_NAME["manure_deliveries"]
    again = ingest_table(reader_for(seeded_sqlite), warehouse, spec, IngestOptions())
    assert again.mode == "full" and again.absent_columns == ()
    assert warehouse.execute(
        "SELECT count(*) FROM ops.absent_columns WHERE table_name = 'manure_deliveries'"
    ).fetchone() == (0,)
    missing = warehouse.execute(
        "SELECT count(*) FROM raw.manure_deliveries WHERE n_animal_kg_per_t IS NULL AND n_kg_per_t IS NOT NULL"
    ).fetchone()
    assert missing == (0,)
    # and the next run is incremental again
    assert ingest_table(reader_for(seeded_sqlite), warehouse, spec, IngestOptions()).mode == "incremental"


def _everything():
    from neuroerp.ingest.readers import Selection

    return Selection(full=True)
