"""Writing outbox rows into a real source for the event tests (PostgreSQL or SQLite)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid

import psycopg
import sqlalchemy as sa

from neuroerp.source.connection import postgres_conninfo
from neuroerp.source.database import create_schema, create_source_engine

INSERT_PG = (
    "INSERT INTO eventbus.outbox_events (id, event_type, aggregate_type, aggregate_id, payload, tenant_id, "
    "created_at, retry_count) VALUES (%s, %s, %s, %s, %s, 'T1', %s, 0)"
)
INSERT_SQLITE = INSERT_PG.replace("eventbus.", "").replace("%s", "?")


def make_source(url: str) -> None:
    engine = create_source_engine(url)
    create_schema(engine)
    engine.dispose()


def pg_connect(url: str) -> psycopg.Connection:
    return psycopg.connect(postgres_conninfo(url))


def row(event_type: str = "certificate.updated", payload: str = '{"k": 1}', at: dt.datetime | None = None) -> tuple:
    at = at or dt.datetime(2026, 11, 27, 12, 0)
    return (str(uuid.uuid4()), event_type, event_type.split(".")[0], str(uuid.uuid4()), payload, at)


def insert(url: str, *rows: tuple) -> list[str]:
    """Insert rows in one committed transaction; their ids."""
    if sa.engine.make_url(url).get_backend_name() == "sqlite":
        with sqlite3.connect(sa.engine.make_url(url).database) as conn:
            conn.executemany(INSERT_SQLITE, rows)
    else:
        with pg_connect(url) as conn:
            conn.cursor().executemany(INSERT_PG, rows)
    return [r[0] for r in rows]
