"""One sync of the search index (read the warehouse, embed what changed, invalidate the cache) and
what the index holds, for the asset, the CLI and the benchmark."""

from __future__ import annotations

import time
from dataclasses import dataclass

import duckdb

from neuroerp.search import index
from neuroerp.search.cache import CacheStats, QueryCache
from neuroerp.search.config import TABLES, SearchSettings
from neuroerp.search.documents import Documents, read_documents
from neuroerp.search.embedding import Embedder, load_embedder
from neuroerp.search.index import SyncResult
from neuroerp.search.search import Searcher, state_of


@dataclass
class SyncReport:
    results: dict[str, SyncResult]
    model_id: str
    device: str
    batch_size: int
    state: str
    purged: int  # cache entries dropped because the index changed
    cache_total: CacheStats
    cache_since: CacheStats  # since the previous sync
    seconds_read: float
    seconds_model: float
    precision: str = "float32"  # of the model's weights


def sync_documents(documents: dict[str, Documents], settings: SearchSettings, embedder: Embedder | None = None):
    """Sync the index to documents already read; returns the report (without the read time)."""
    started = time.perf_counter()
    embedder = embedder or load_embedder(settings.model, settings.device, settings.batch_size, settings.precision)
    seconds_model = time.perf_counter() - started
    results = index.sync(settings.vectors_dir, documents, embedder)
    state = state_of({name: r.version for name, r in results.items()})
    with QueryCache(settings.cache_path, settings.cache_ttl_s) as cache:
        purged = cache.set_state(state)
        total, since = cache.report()
    return SyncReport(
        results=results, model_id=embedder.model_id, device=embedder.device, batch_size=embedder.batch_size,
        state=state, purged=purged, cache_total=total, cache_since=since, seconds_read=0.0,
        seconds_model=seconds_model, precision=embedder.precision,
    )  # fmt: skip


def sync_from_warehouse(conn: duckdb.DuckDBPyConnection, settings: SearchSettings) -> SyncReport:
    started = time.perf_counter()
    documents = read_documents(conn)
    seconds_read = time.perf_counter() - started
    report = sync_documents(documents, settings)
    report.seconds_read = seconds_read
    return report


def open_searcher(settings: SearchSettings) -> Searcher:
    cache = QueryCache(settings.cache_path, settings.cache_ttl_s)
    return Searcher(settings.vectors_dir, cache, precision=settings.precision)


@dataclass(frozen=True)
class TableInfo:
    table: str
    rows: int
    version: int
    models: dict[str, int]  # model id -> rows
    last_embedded_at: str | None


def describe(settings: SearchSettings) -> list[TableInfo]:
    """What each table holds: rows, version, the models of its vectors, the last embedding."""
    if not settings.vectors_dir.exists():
        return []
    db = index.connect(settings.vectors_dir)
    out = []
    for name in TABLES:
        table = index.open_table(db, name)
        if table is None:
            continue
        cols = index.columns(table, ["model", "embedded_at"])
        models: dict[str, int] = {}
        for model in cols.column("model").to_pylist():
            models[model] = models.get(model, 0) + 1
        stamps = [s for s in cols.column("embedded_at").to_pylist() if s is not None]
        last = max(stamps).isoformat(timespec="seconds") if stamps else None
        out.append(TableInfo(name, table.count_rows(), table.version, models, last))
    return out
