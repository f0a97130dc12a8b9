"""Fingerprints of every audit row as first seen, read straight from the source.

GoBD wants an audit trail nobody can change unnoticed. The ingest copies `audit_log` as an
append-only table, so a row changed later at the source would not show in raw; hence each run
fingerprints every row at the source (an md5 of its canonical text) and keeps the first one it saw.
A row whose fingerprint changed, or that disappeared, is evidence of tampering.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import duckdb
import polars as pl

from neuroerp.contract import ColumnType, table
from neuroerp.ingest.readers import TEMPORAL_RANGE, PostgresReader, SqliteReader, reader_for
from neuroerp.sqlmodels import PythonStep
from neuroerp.warehouse import transaction

RECORD_FINGERPRINTS = PythonStep(
    "audit_fingerprints", writes=("compliance.audit_fingerprints",), reads=("raw.audit_log",)
)
COLUMNS = table("audit_log").column_names
TABLE = "compliance.audit_fingerprints"


def source_fingerprints(url: str) -> pl.DataFrame:
    """seq, tenant_id, occurred_at and fingerprint of every audit row at the source.

    The fingerprint is the md5 of the row as a JSON array (so no two different rows share one,
    whatever their text holds), with the instant in UTC (so the session's time zone cannot change it).
    """
    reader = reader_for(url)
    if isinstance(reader, PostgresReader):
        values = ", ".join(f"\"{c}\" AT TIME ZONE 'UTC'" if c == "occurred_at" else f'"{c}"' for c in COLUMNS)
        # an instant the driver cannot carry (infinity, beyond the year 9999) is fingerprinted, not kept
        low, high = TEMPORAL_RANGE[ColumnType.TIMESTAMPTZ]
        occurred = f"CASE WHEN occurred_at BETWEEN {low} AND {high} THEN occurred_at AT TIME ZONE 'UTC' END"
        with reader.connect() as conn, conn.cursor() as cur:
            cur.execute(
                f"SELECT seq, tenant_id, {occurred} AS occurred_at, md5(json_build_array({values})::text) AS fingerprint "
                "FROM audit.audit_log WHERE seq IS NOT NULL"
            )
            return pl.from_arrow(cur.fetch_arrow_table()).with_columns(
                pl.col("occurred_at").dt.convert_time_zone("UTC")
            )
    assert isinstance(reader, SqliteReader)
    with reader.connect() as conn:
        listed = ", ".join(f'CAST("{c}" AS TEXT)' for c in COLUMNS)
        rows = conn.execute(f"SELECT {listed} FROM audit_log WHERE seq IS NOT NULL").fetchall()
    occurred = COLUMNS.index("occurred_at")
    return pl.DataFrame(
        {
            "seq": [int(r[0]) for r in rows],
            "tenant_id": [r[1] for r in rows],
            "occurred_at": [r[occurred] for r in rows],
            "fingerprint": [hashlib.md5(json.dumps(list(r), ensure_ascii=False).encode()).hexdigest() for r in rows],
        },
        schema={"seq": pl.Int64, "tenant_id": pl.String, "occurred_at": pl.String, "fingerprint": pl.String},
    ).with_columns(
        pl.col("occurred_at")
        .str.replace(r"Z$", "+00:00")
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_unit="us", time_zone="UTC")
    )


def record_fingerprints(conn: duckdb.DuckDBPyConnection, current: pl.DataFrame, now: dt.datetime) -> dict[str, int]:
    """Merge this run's fingerprints: new rows keep their first fingerprint, known rows get the
    current one, rows no longer at the source are marked absent. Returns counts."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS compliance")
    conn.execute(
        f"""CREATE TABLE IF NOT EXISTS {TABLE} (
            seq BIGINT PRIMARY KEY,
            tenant_id VARCHAR,
            occurred_at TIMESTAMPTZ,
            first_fingerprint VARCHAR NOT NULL,
            first_seen_at TIMESTAMPTZ NOT NULL,
            current_fingerprint VARCHAR,
            present BOOLEAN NOT NULL,
            checked_at TIMESTAMPTZ NOT NULL
        )"""
    )
    conn.register("current_fp", current.to_arrow())
    try:
        with transaction(conn):
            new = conn.execute(
                f"INSERT INTO {TABLE} SELECT c.seq, c.tenant_id, c.occurred_at, c.fingerprint, ?, c.fingerprint, true, ? "
                f"FROM current_fp c WHERE c.seq NOT IN (SELECT seq FROM {TABLE})",
                [now, now],
            ).fetchall()[0][0]
            conn.execute(
                f"UPDATE {TABLE} f SET current_fingerprint = c.fingerprint, present = true, checked_at = ? "
                "FROM current_fp c WHERE c.seq = f.seq",
                [now],
            )
            conn.execute(
                f"UPDATE {TABLE} SET present = false, current_fingerprint = NULL, checked_at = ? "
                "WHERE seq NOT IN (SELECT seq FROM current_fp)",
                [now],
            )
            counts = conn.execute(
                f"SELECT count(*), count(*) FILTER (WHERE NOT present), "
                f"count(*) FILTER (WHERE present AND current_fingerprint <> first_fingerprint) FROM {TABLE}"
            ).fetchall()[0]
    finally:
        conn.unregister("current_fp")
    return {"rows": counts[0], "new": new, "absent": counts[1], "changed": counts[2]}
