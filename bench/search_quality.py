"""Retrieval quality of the search on the demo data: recall@10 and MRR of the labelled German
queries (neuroerp/search/evaluation.py) for vector-only, full-text-only and hybrid search.

    scripts/bench search_quality [--seed 42] [--scale 0.05] [--as-of 2026-11-20] [--queries]

Seeds the demo ERP into SQLite, ingests it, builds the staging views and the reference tables,
syncs the index, then searches every labelled query in each mode. --queries prints each query's
figures too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import duckdb

from neuroerp.contract import load_order
from neuroerp.ingest import IngestOptions, ingest_table, reader_for
from neuroerp.project import project_models
from neuroerp.reference.warehouse import load_reference_tables
from neuroerp.search.config import SearchSettings
from neuroerp.search.documents import read_documents
from neuroerp.search.evaluation import evaluate
from neuroerp.search.search import Searcher
from neuroerp.search.service import sync_documents
from neuroerp.seed import seed_source
from neuroerp.sqlmodels import build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 20))
    parser.add_argument("--queries", action="store_true", help="print every query's figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        url = f"sqlite:///{home / 'erp.sqlite'}"
        seed_source(url, scale=args.scale, seed=args.seed, as_of=args.as_of, create_schema=True)
        with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
            reader = reader_for(url)
            for spec in load_order():
                ingest_table(reader, conn, spec, IngestOptions())
            load_reference_tables(conn)
            for model in project_models():
                if model.schema == "staging":
                    build(conn, model)
            documents = read_documents(conn)
        settings = SearchSettings(home=home)
        sync_documents(documents, settings)
        started = time.perf_counter()
        scores, not_applicable = evaluate(Searcher(settings.vectors_dir), documents)
        seconds = time.perf_counter() - started
    rows = {n: d.frame.height for n, d in documents.items()}
    n = len(scores["hybrid"].outcomes)
    print(f"demo data: seed {args.seed}, scale {args.scale}, as of {args.as_of}: {rows}")
    print(f"{n} applicable queries ({len(not_applicable)} without a right answer in this data: "
          f"{', '.join(q.query for q in not_applicable) or '-'}); {seconds:.0f} s\n")  # fmt: skip
    print(f"{'mode':<8} {'recall@10':>9} {'MRR':>6}")
    for mode in ("vector", "text", "hybrid"):
        print(f"{mode:<8} {scores[mode].recall:>9.3f} {scores[mode].mrr:>6.3f}")
    if args.queries:
        print(f"\n{'query':<36} {'right':>5}  vector      text        hybrid")
        for v, t, h in zip(*(scores[m].outcomes for m in ("vector", "text", "hybrid")), strict=True):
            cells = "  ".join(f"{o.recall:.2f}/{o.reciprocal_rank:.2f}" for o in (v, t, h))
            print(f"{h.query.query[:36]:<36} {h.relevant:>5}  {cells}")


if __name__ == "__main__":
    main()
