"""The query cache: answers for 5 minutes (the TTL), dropped as soon as the index changes.

One SQLite file beside the LanceDB tables, shared by every process that searches (the CLI, the
UI's runs). Entries belong to the index state they were computed on (the tables' versions); the
index sync records the new state and deletes every entry of an older one, so an erased customer's
name leaves the cache with the run that erases it. Deleted entries are overwritten on disk
(`secure_delete`) and the write-ahead log is truncated after a purge. The cache never stores the
query text, only a hash of it.

Counters (hits, misses, expired, invalidations) are cumulative; `report()` also gives the
change since the last report, which the sync asset shows as metadata.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

COUNTERS = ("hits", "misses", "expired", "stored", "invalidations", "purged")
SCHEMA = """
create table if not exists entries (
    key text primary key, state text not null, created_at real not null, results text not null
);
create table if not exists counters (name text primary key, value integer not null);
create table if not exists meta (name text primary key, value text not null);
"""


@dataclass(frozen=True)
class CacheStats:
    hits: int = 0
    misses: int = 0
    expired: int = 0  # misses because the entry had outlived the TTL
    stored: int = 0
    invalidations: int = 0  # index changes seen
    purged: int = 0  # entries deleted by those changes
    entries: int = 0

    @property
    def lookups(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float | None:
        return self.hits / self.lookups if self.lookups else None

    def as_dict(self) -> dict:
        return asdict(self) | {"lookups": self.lookups, "hit_rate": self.hit_rate}

    def minus(self, earlier: CacheStats) -> CacheStats:
        values = {c: getattr(self, c) - getattr(earlier, c) for c in COUNTERS}
        return CacheStats(**values, entries=self.entries)


def normalise(query: str) -> str:
    """The same question typed differently hits the same entry: Unicode NFC, case, spaces."""
    return " ".join(unicodedata.normalize("NFC", query).casefold().split())


def cache_key(query: str, **options) -> str:
    payload = json.dumps([normalise(query), sorted(options.items())], ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


class QueryCache:
    def __init__(self, path: Path, ttl_s: float = 300.0, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.ttl_s = float(ttl_s)
        self.clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        self._db.execute("pragma journal_mode = wal")
        self._db.execute("pragma synchronous = normal")
        self._db.execute("pragma secure_delete = on")  # deleted answers are overwritten, not left in free pages
        self._db.executescript(SCHEMA)
        self._db.executemany("insert or ignore into counters values (?, 0)", [(c,) for c in COUNTERS])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> QueryCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------------------ lookups

    def state(self) -> str | None:
        row = self._db.execute("select value from meta where name = 'state'").fetchone()
        return row[0] if row else None

    def _count(self, *names: str) -> None:
        for name in names:
            self._db.execute("update counters set value = value + 1 where name = ?", [name])

    def get(self, key: str) -> list | None:
        """The cached answer, or None (a miss: absent, expired, or of an older index)."""
        with self._lock:
            row = self._db.execute(
                "select e.created_at, e.results from entries e join meta m on m.name = 'state' and m.value = e.state "
                "where e.key = ?",
                [key],
            ).fetchone()
            if row is None:
                self._count("misses")
                return None
            if self.clock() - row[0] > self.ttl_s:
                self._db.execute("delete from entries where key = ?", [key])
                self._count("misses", "expired")
                return None
            self._count("hits")
            return json.loads(row[1])

    def put(self, key: str, results: list, state: str) -> bool:
        """Store an answer computed on index `state`; not stored when the index moved on meanwhile."""
        with self._lock:
            if state != self.state():
                return False
            now = self.clock()
            self._db.execute("begin immediate")
            self._db.execute("delete from entries where created_at < ?", [now - self.ttl_s])
            self._db.execute(
                "insert or replace into entries values (?, ?, ?, ?)",
                [key, state, now, json.dumps(results, ensure_ascii=False, default=str)],
            )
            self._count("stored")
            self._db.execute("commit")
            return True

    # -------------------------------------------------------------------------- invalidation

    def set_state(self, state: str) -> int:
        """Record the index state after a sync; entries of any other state are deleted. Returns how many."""
        with self._lock:
            if state == self.state():
                return 0
            self._db.execute("begin immediate")
            purged = self._db.execute("delete from entries where state <> ?", [state]).rowcount
            self._db.execute("insert or replace into meta values ('state', ?)", [state])
            self._count("invalidations")
            self._db.execute("update counters set value = value + ? where name = 'purged'", [purged])
            self._db.execute("commit")
            self._db.execute("pragma wal_checkpoint(truncate)")  # the log held the purged answers too
            return purged

    def clear(self) -> int:
        with self._lock:
            purged = self._db.execute("delete from entries").rowcount
            self._db.execute("pragma wal_checkpoint(truncate)")
            return purged

    # -------------------------------------------------------------------------------- stats

    def stats(self) -> CacheStats:
        counters = dict(self._db.execute("select name, value from counters").fetchall())
        entries = self._db.execute("select count(*) from entries").fetchone()[0]
        return CacheStats(**{c: int(counters.get(c, 0)) for c in COUNTERS}, entries=entries)

    def entries_of(self, state: str) -> int:
        return self._db.execute("select count(*) from entries where state = ?", [state]).fetchone()[0]

    def report(self) -> tuple[CacheStats, CacheStats]:
        """Cumulative statistics and the change since the previous report (then remembered)."""
        with self._lock:
            now = self.stats()
            row = self._db.execute("select value from meta where name = 'reported'").fetchone()
            earlier = CacheStats(**json.loads(row[0])) if row else CacheStats()
            snapshot = json.dumps({c: getattr(now, c) for c in COUNTERS})
            self._db.execute("insert or replace into meta values ('reported', ?)", [snapshot])
            return now, now.minus(earlier)
