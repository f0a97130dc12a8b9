"""Search benchmark: backfill throughput, the cost of a 1 % change, search latency at 100k rows.

    scripts/bench embeddings [--backfill-rows 2000] [--latency-rows 100000] [--embed-all]
                             [--latency-only] [--index-dir DIR]

1. Backfill: the first sync of an empty index (texts, hashes, embedding, LanceDB writes, full-text
   and number indexes) against raw `model.encode` of the same texts with the same batch size,
   the model loaded before both. Target: >= 90 % of the raw rows/s.
2. A 1 % change: 1 % of the rows renamed, and every price changed; rows embedded by the
   next sync. Target: <= 1.5 % of the rows.
3. Latency at 100k rows (articles and customers of the demo generator at the scale that gives
   them): p50/p95 of the labelled queries, warm (tables open, model loaded, no cache) and cached,
   beside the parts alone (query embedding, LanceDB vector search, LanceDB full-text search).
   Targets: p95 <= 30 ms warm, <= 1 ms cached. On a CPU the 100k rows reuse the vectors of the
   backfill's rows (a search costs the same whatever the vectors hold); --embed-all embeds them all
   (for a GPU machine). --index-dir keeps the 100k index in DIR and reuses it on the next run
   (building it takes minutes); --latency-only skips parts 1 and 2 (the rows then reuse the
   vectors of 1,000 of each table's own rows).

Master data comes from the demo generator (neuroerp.seed) into an in-memory warehouse with the
project's staging views; nothing else of the ERP is generated.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from lancedb.background_loop import LOOP

from neuroerp.contract import TABLES
from neuroerp.project import project_models
from neuroerp.search import index
from neuroerp.search.cache import QueryCache
from neuroerp.search.config import ARTICLES, CUSTOMERS, SearchSettings
from neuroerp.search.documents import read_documents
from neuroerp.search.embedding import load_embedder
from neuroerp.search.evaluation import QUERIES
from neuroerp.search.search import Searcher, full_text_queries
from neuroerp.search.service import sync_documents
from neuroerp.seed import master
from neuroerp.seed.context import SCALE_1, TENANTS, Context
from neuroerp.sqlmodels import build

STAGING = ("staging.all_articles", "staging.articles", "staging.all_customers", "staging.customers",
           "staging.gdpr_requests")  # fmt: skip


def master_data(rows: int, seed: int = 1) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with about `rows` articles and customers of the demo generator."""
    scale = rows / (SCALE_1["customers"] + SCALE_1["articles"])
    ctx = Context(seed=seed, scale=max(scale, 0.01), as_of=dt.date.today())
    frames: dict[str, list[pl.DataFrame]] = {"articles": [], "customers": [], "gdpr_requests": []}
    for tenant in TENANTS:
        customers = master.customers(ctx, tenant).with_columns(
            updated_at=pl.col("created_at"), deleted_at=pl.lit(None, dtype=pl.Datetime("us", "UTC"))
        )
        frames["customers"].append(customers)
        frames["articles"].append(master.articles(ctx, tenant, master.suppliers(ctx, tenant)))
        frames["gdpr_requests"].append(master.gdpr_requests(ctx, tenant, customers))
    conn = duckdb.connect()
    conn.execute("create schema raw")
    for spec in TABLES:
        if spec.name not in frames:
            continue
        frame = pl.concat(frames[spec.name], how="diagonal_relaxed")
        missing = [c for c in spec.column_names if c not in frame.columns]
        data = frame.with_columns(pl.lit(None).alias(c) for c in missing).select(spec.column_names)  # noqa: F841
        conn.execute(f"create table raw.{spec.name} as select * from data")
    for model in project_models():
        if model.relation in STAGING:
            build(conn, model)
    return conn


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "n/a"


def _quantiles(seconds: list[float]) -> tuple[float, float]:
    ms = sorted(s * 1000 for s in seconds)
    return statistics.median(ms), ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]


def backfill(folder: Path, rows: int) -> list[list[str]]:
    conn = master_data(rows)
    documents = read_documents(conn)
    embedder = load_embedder()
    texts = [t for d in documents.values() for t in d.frame["text"].to_list()]
    embedder.encode(texts[:256])  # warm

    def raw_encode() -> float:
        started = time.perf_counter()
        embedder.model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True, show_progress_bar=False)
        return time.perf_counter() - started

    # raw, sync, raw, sync, raw: medians, so a neighbour's load hits both alike
    raw, synced, embed_share = [raw_encode()], [], []
    for run in range(2):
        settings = SearchSettings(home=folder / f"run{run}")
        started = time.perf_counter()
        report = sync_documents(documents, settings, embedder)
        synced.append(time.perf_counter() - started)
        embed_share.append(sum(r.seconds_embed for r in report.results.values()) / synced[-1])
        assert sum(r.embedded for r in report.results.values()) == len(texts)
        raw.append(raw_encode())
    raw_s, synced_s = statistics.median(raw), statistics.median(synced)
    n = len(texts)
    table = [
        ["raw model.encode (median of 3)", f"{n:,}", f"{raw_s:.1f}", f"{n / raw_s:,.0f}", "100 %"],
        ["first sync (median of 2: texts to LanceDB with indexes)", f"{n:,}", f"{synced_s:.1f}",
         f"{n / synced_s:,.0f}", f"{_pct(raw_s, synced_s)} (embedding {min(embed_share):.1%} of its time)"],
    ]  # fmt: skip
    print(f"device {embedder.device}, batch {embedder.batch_size}, model {embedder.model_id}")
    print(f"raw encode runs: {', '.join(f'{r:.1f}' for r in raw)} s; syncs: {', '.join(f'{r:.1f}' for r in synced)} s")

    # a 1 % change: rename 1 % of the rows; change every price
    changed = max(1, n // 100)
    with conn:
        conn.execute("update raw.articles set list_price = list_price + 1, unit_cost = unit_cost + 1")
        per_table = {ARTICLES: changed * documents[ARTICLES].frame.height // n}
        per_table[CUSTOMERS] = changed - per_table[ARTICLES]
        conn.execute(
            f"update raw.articles set name = name || ' neu' where article_id in "
            f"(select article_id from raw.articles order by article_id limit {per_table[ARTICLES]})"
        )
        conn.execute(
            f"update raw.customers set name = name || ' GbR' where customer_id in "
            f"(select customer_id from raw.customers order by customer_id limit {per_table[CUSTOMERS]})"
        )
        documents = read_documents(conn)
    started = time.perf_counter()
    report = sync_documents(documents, settings, embedder)
    seconds = time.perf_counter() - started
    embedded = sum(r.embedded for r in report.results.values())
    table.append([f"sync after a 1 % change ({changed:,} renamed, all prices)", f"{embedded:,}", f"{seconds:.1f}",
                  "", f"{_pct(embedded, n)} of rows embedded"])  # fmt: skip
    return table


def _sample_vectors(docs, embedder, rows: int = 1_000) -> np.ndarray:
    """Vectors of a table's first rows, to be repeated: a search costs the same whatever they hold."""
    return embedder.encode(docs.frame["text"].head(rows).to_list())


def build_latency_index(folder: Path, rows: int, embed_all: bool, backfill: Path | None) -> tuple[int, float, bool]:
    """The latency index under `folder` (rows, seconds to build, whether it was reused). An index
    built before from the same arguments is reused (a marker file records them)."""
    settings = SearchSettings(home=folder)
    marker = folder / "bench-index.json"
    config = [repr(c) for c in (index.WORDS, index.GRAMS, index.vector_index_config())] + sorted(index.SCALAR_INDEXES)
    wanted = {"rows": rows, "embed_all": embed_all, "seed": 2, "indexes": config}
    if marker.exists() and json.loads(marker.read_text()).get("wanted") == wanted:
        return json.loads(marker.read_text())["n"], 0.0, True
    shutil.rmtree(settings.vectors_dir, ignore_errors=True)
    conn = master_data(rows, seed=2)
    documents = read_documents(conn)
    n = sum(d.frame.height for d in documents.values())
    embedder = load_embedder()
    started = time.perf_counter()
    if embed_all:
        sync_documents(documents, settings, embedder)
    else:  # vectors of the backfill's rows (or of some of each table's own), by kind: the search costs the same
        db = index.connect(settings.vectors_dir)
        source = index.connect(backfill) if backfill else None
        for name, docs in documents.items():
            if source is not None:
                held = index.open_table(source, name).to_arrow().select(["vector"]).column("vector").to_numpy(False)
                held = np.stack(held)
            else:
                held = _sample_vectors(docs, embedder)
            vectors = held[np.arange(docs.frame.height) % len(held)]
            batch = index._arrow_rows(docs.rows, vectors, embedder)
            table = db.create_table(name, batch, schema=batch.schema)
            index.ensure_indexes(table)
        with QueryCache(settings.cache_path) as cache:
            cache.set_state("bench")
    build_s = time.perf_counter() - started
    marker.write_text(json.dumps({"wanted": wanted, "n": n}))
    return n, build_s, False


def latency(folder: Path, rows: int, embed_all: bool, backfill: Path | None = None) -> list[list[str]]:
    n, build_s, reused = build_latency_index(folder, rows, embed_all, backfill)
    embedder = load_embedder()
    settings = SearchSettings(home=folder)
    queries = [q.query for q in QUERIES]
    cache = QueryCache(settings.cache_path, ttl_s=3600)
    cache.clear()  # answers of an earlier run on a reused index
    # warm means tables open, model loaded, indexes touched; every query still embedded (no vectors remembered)
    searcher = Searcher(settings.vectors_dir, cache, query_vectors=0)
    one_by_one = Searcher(settings.vectors_dir, cache, query_vectors=0, concurrent=False)
    remembering = Searcher(settings.vectors_dir, cache)
    for q in queries:
        for s in (searcher, one_by_one, remembering):
            s.search(q, use_cache=False)
    tables = searcher._open()
    vectors = {q: embedder.encode_query(q) for q in queries}

    def timed(action) -> list[float]:
        out = []
        for q in queries:
            started = time.perf_counter()
            action(q)
            out.append(time.perf_counter() - started)
        return out

    async def nearest(q: str) -> list:
        return await asyncio.gather(
            *(t.query().nearest_to(vectors[q]).distance_type("cosine").with_row_id().select(["_distance"]).limit(50)
              .to_arrow() for t in tables.values())
        )  # fmt: skip

    async def full_text(q: str) -> list:
        return await asyncio.gather(
            *(t.query().nearest_to_text(fts).with_row_id().select(["_score"]).limit(50).to_arrow()
              for fts in full_text_queries(q) if fts is not None for t in tables.values())
        )  # fmt: skip

    parts = {
        "query embedding alone (1 text, 1 CPU thread)": timed(embedder.encode_query),
        "LanceDB vector searches alone (both tables, top 50)": timed(lambda q: LOOP.run(nearest(q))),
        "LanceDB full-text queries alone (words, n-grams, all words)": timed(lambda q: LOOP.run(full_text(q))),
        "hybrid search, warm, queries one after another": timed(lambda q: one_by_one.search(q, use_cache=False)),
        "hybrid search, warm (no cache)": timed(lambda q: searcher.search(q, use_cache=False)),
        "hybrid search, warm, query vector remembered": timed(lambda q: remembering.search(q, use_cache=False)),
    }
    for q in queries:
        searcher.search(q)  # store
    parts["hybrid search, cached"] = timed(lambda q: searcher.search(q))
    assert all(searcher.search(q).cached for q in queries[:5])
    table = []
    for name, seconds in parts.items():
        p50, p95 = _quantiles(seconds)
        table.append([name, f"{n:,}", f"{p50:.2f}", f"{p95:.2f}"])
    how = "reused from an earlier run" if reused else f"built in {build_s:.0f} s"
    print(f"latency index: {n:,} rows {how} ({'embedded' if embed_all else 'vectors reused'})")
    return table


def _print(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backfill-rows", type=int, default=2_000)
    parser.add_argument("--latency-rows", type=int, default=100_000)
    parser.add_argument("--embed-all", action="store_true", help="embed every row of the latency index")
    parser.add_argument("--latency-only", action="store_true", help="only the search latency")
    parser.add_argument("--index-dir", type=Path, help="keep the latency index here and reuse it next time")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        source = None
        if not args.latency_only:
            rows = backfill(Path(tmp) / "backfill", args.backfill_rows)
            _print("Backfill and incremental sync (target: >= 90 % of raw encode; <= 1.5 % embedded after a 1 % change)",
                   ["run", "rows", "s", "rows/s", "vs raw encode"], rows)  # fmt: skip
            source = SearchSettings(home=Path(tmp) / "backfill" / "run1").vectors_dir
        lat = latency(args.index_dir or Path(tmp) / "latency", args.latency_rows, args.embed_all, source)
        _print("Search latency (target: p95 <= 30 ms warm, <= 1 ms cached)",
               ["what", "rows", "p50 ms", "p95 ms"], lat)  # fmt: skip
    print(f"\nload average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
