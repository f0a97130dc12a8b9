"""What the benchmarks share: a throw-away PostgreSQL 15 with the demo ERP seeded into it."""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from neuroerp.devtools.postgres import throwaway_postgres
from neuroerp.seed import seed_source


@contextlib.contextmanager
def seeded_postgres(scale: float, as_of: dt.date, seed: int = 1) -> Iterator[tuple[str, Path]]:
    """The URL of database `bench` holding the demo ERP at `scale`, and a scratch folder; both
    removed afterwards."""
    with throwaway_postgres() as pg, tempfile.TemporaryDirectory() as tmp:
        admin = sa.create_engine(pg.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE bench"))
        admin.dispose()
        url = pg.url_for("bench")
        seed_source(url, scale=scale, seed=seed, as_of=as_of, create_schema=True)
        yield url, Path(tmp)
