"""The GoBD audit fingerprints read from the source itself, on both source kinds: PostgreSQL (the
production path: md5 of json_build_array in the server) and the demo's SQLite.

Changes tried at the source: an audit row's actor edited, a row deleted, the database's time zone
changed (must not change any fingerprint), an instant PostgreSQL holds but the driver cannot carry.
"""

import datetime as dt

import duckdb
import pytest
import sqlalchemy as sa

from neuroerp.compliance.fingerprints import record_fingerprints, source_fingerprints
from neuroerp.seed import seed_source
from tests.conftest import AS_OF, SEED

T1 = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
T2 = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


@pytest.fixture(params=["postgres", "sqlite"])
def source(request):
    url = request.getfixturevalue("pg_url" if request.param == "postgres" else "sqlite_url")
    seed_source(url, scale=0.01, seed=SEED, as_of=AS_OF, create_schema=True)
    return url


def _execute(url: str, sql: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(sql))
    engine.dispose()


def _audit(url: str) -> str:
    return "audit.audit_log" if url.startswith("postgresql") else "audit_log"


def test_every_audit_row_once_and_the_same_at_every_read(source):
    first, again = source_fingerprints(source), source_fingerprints(source)
    assert first.height > 100 and first["seq"].is_unique().all()
    assert first.sort("seq").equals(again.sort("seq"))
    assert first["occurred_at"].null_count() == 0 and str(first["occurred_at"].dtype.time_zone) == "UTC"


def test_an_edited_and_a_deleted_row_are_told_apart_from_the_rest(source, tmp_path):
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    before = source_fingerprints(source)
    assert record_fingerprints(conn, before, T1) == {
        "rows": before.height,
        "new": before.height,
        "absent": 0,
        "changed": 0,
    }
    edited, deleted = before["seq"].sort()[10], before["seq"].sort()[20]
    _execute(source, f"UPDATE {_audit(source)} SET actor = 'jemand anderes' WHERE seq = {edited}")
    _execute(source, f"DELETE FROM {_audit(source)} WHERE seq = {deleted}")
    counts = record_fingerprints(conn, source_fingerprints(source), T2)
    assert counts == {"rows": before.height, "new": 0, "absent": 1, "changed": 1}
    changed = conn.execute(
        "SELECT seq, first_seen_at FROM compliance.audit_fingerprints WHERE current_fingerprint <> first_fingerprint"
    ).fetchall()
    assert changed == [(edited, T1)]  # the first fingerprint and when it was seen are kept
    absent = conn.execute("SELECT seq FROM compliance.audit_fingerprints WHERE NOT present").fetchall()
    assert absent == [(deleted,)]


def test_postgres_fingerprints_ignore_the_sessions_time_zone_and_survive_infinity(pg_url):
    seed_source(pg_url, scale=0.01, seed=SEED, as_of=AS_OF, create_schema=True)
    utc = source_fingerprints(pg_url)
    database = sa.engine.make_url(pg_url).database
    _execute(pg_url, f"ALTER DATABASE \"{database}\" SET timezone TO 'Pacific/Auckland'")
    assert source_fingerprints(pg_url).sort("seq").equals(utc.sort("seq"))
    last = utc["seq"].max()
    _execute(pg_url, f"UPDATE audit.audit_log SET occurred_at = 'infinity' WHERE seq = {last}")
    after = source_fingerprints(pg_url)
    row = after.filter(after["seq"] == last)
    assert (
        row["occurred_at"].to_list() == [None]
        and row["fingerprint"][0] != utc.filter(utc["seq"] == last)["fingerprint"][0]
    )
