"""Hybrid search over the index: vector similarity and LanceDB's native full-text search, fused by
reciprocal rank fusion (RRF), filtered by tenant and kind, with a reason for every hit.

- Words: one full-text query per table over two indexes: German words of the whole text (stemmed,
  umlauts folded, edits forgiven by word length) and trigrams of the name and description
  (compounds, misspellings), a trigram weighing less than a word. The tables' BM25 rankings are
  merged.
- Meaning: the query embedded with the model that built the index, searched by cosine similarity
  (comparable across tables: same model). The default model is English and reads German poorly,
  so the meaning weighs about a third of the words: it adds what the words miss (synonyms) without
  pushing aside what they found.
- All words: the rows that contain every word of the query (as words, edits forgiven), ranked by
  BM25: a full name ("Michael Ludwig") beats rows that share one of its words.
- Fusion: score = sum over the rankings of weight / (k + rank), k = 60 (Cormack et al. 2009), the
  words weighing 1, all words 0.5 and the meaning 0.35 (chosen on the labelled queries of two
  demo data sets, see evaluation.py and the README).
- An exact customer or article number in the query puts that row first.
"""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
from lancedb.query import BooleanQuery, MatchQuery, Occur

from neuroerp.search import index
from neuroerp.search.cache import QueryCache, cache_key
from neuroerp.search.config import DEFAULT_MODEL, KIND_OF_TABLE, TABLE_OF_KIND, TABLES
from neuroerp.search.embedding import Embedder, load_embedder

MODES = ("hybrid", "vector", "text")
MAX_QUERY_CHARS = 2_000
MAX_TEXT_WORDS = 64  # a long query: its first 64 words go to the full-text indexes (the model reads 256 tokens)
MAX_LIMIT = 100
RRF_K = 60
WEIGHTS = (0.35, 1.0, 0.5)  # (meaning, words, all words) in the fusion
CANDIDATES = 50  # per ranking, before fusion
GRAMS_BOOST = 0.3  # a trigram match counts less than a whole word
FUZZY_BOOST = 0.5  # and a word within edits less than the word as typed
SHOWN = ["id", "tenant_id", "kind", "number", "name", "category", "place", "active"]
PUNCTUATION = ".,;:!?()[]\"'"
NUMBER_LIKE = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9\-/.]{3,39}$")  # P100023, K200042, 024395-00


class QueryError(ValueError):
    """A query the search cannot run, with what to change."""


class IndexMissing(RuntimeError):
    """Nothing indexed yet: the sync has not run."""


@dataclass
class Hit:
    kind: str
    id: str
    tenant_id: str
    number: str
    name: str
    category: str
    place: str | None
    active: bool
    score: float = 0.0  # fused
    vector_rank: int | None = None
    similarity: float | None = None
    text_rank: int | None = None
    text_score: float | None = None
    matched: list[str] = field(default_factory=list)  # query words found in the hit's text
    exact: bool = False  # its number is in the query
    all_words: bool = False  # its text has every word of the query

    @property
    def why(self) -> str:
        parts = [f"number {self.number}"] if self.exact else []
        if self.vector_rank is not None:
            parts.append(f"meaning #{self.vector_rank} (cos {self.similarity:.2f})")
        if self.text_rank is not None:
            words = ", ".join(self.matched) if self.matched else "similar spelling or part of a word"
            parts.append(f"{'all words' if self.all_words else 'words'} #{self.text_rank}: {words}")
        return "; ".join(parts)


@dataclass
class SearchResult:
    query: str
    mode: str
    hits: list[Hit]
    cached: bool
    seconds: float
    truncated: bool = False  # the query was longer than the text indexes read


def state_of(versions: dict[str, int]) -> str:
    """The index state a cached answer belongs to: the version of every table."""
    return json.dumps({name: versions.get(name, 0) for name in TABLES}, sort_keys=True)


def _tenant_filter(tenant: str | None) -> str | None:
    return None if tenant is None else "tenant_id = '" + tenant.replace("'", "''") + "'"


class Searcher:
    """Searches the index under `vectors_dir`; keeps tables, model and cache open between queries.
    One search at a time per Searcher (threads: one Searcher each)."""

    def __init__(
        self, vectors_dir: Path, cache: QueryCache | None = None, rrf_k: int = RRF_K, candidates: int = CANDIDATES,
        weights: tuple[float, float, float] = WEIGHTS,
    ) -> None:  # fmt: skip
        self.vectors_dir = Path(vectors_dir)
        self.cache = cache
        self.rrf_k = rrf_k
        self.candidates = candidates
        self.weights = weights  # (meaning, words, all words) in the fusion
        self._tables: dict[str, object] = {}
        self._embedders: dict[str, Embedder] = {}
        self._table_models: dict[tuple[str, int], str | None] = {}
        self._state: str | None = None
        self._last_texts: dict[tuple[str, str], str] = {}
        # LanceDB and torch release the GIL: the query's embedding runs beside the text searches
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="search")

    # ------------------------------------------------------------------------------ tables

    def _open(self) -> dict[str, object]:
        """The tables at their latest version: reopened when the sync recorded a new index state
        (every query, without a cache to read the state from)."""
        state = self.cache.state() if self.cache else None
        if not self._tables or state is None or state != self._state:
            db = index.connect(self.vectors_dir)
            names = index.table_names(db)
            self._tables = {name: db.open_table(name) for name in TABLES if name in names}
            if self._tables and self.cache is not None and state is None:  # a new cache file: adopt the index
                state = state_of({name: t.version for name, t in self._tables.items()})
                self.cache.set_state(state)
            self._state = state
        if not self._tables:
            raise IndexMissing(f"no search index under {self.vectors_dir}: materialise the search assets first")
        return self._tables

    def _embedder_for(self, table) -> Embedder:
        """The model that built the table: queries must live in the same vector space."""
        key = (table.name, table.version)
        if key not in self._table_models:
            first = table.search().select(["model"]).limit(1).to_arrow().column("model").to_pylist()
            self._table_models[key] = first[0] if first else None
        model_id = self._table_models[key]
        embedder = self._embedders.get(model_id)
        if embedder is None:
            embedder = load_embedder(index.model_spec_of(table) or DEFAULT_MODEL)
            if model_id is not None and embedder.model_id != model_id:
                raise IndexMissing(
                    f"the index was built with {model_id}, but {embedder.model_id} is what loads here; "
                    "run the search sync with this machine's model"
                )
            self._embedders[model_id] = embedder
        return embedder

    # ------------------------------------------------------------------------------ search

    def search(
        self, query: str, *, kind: str | None = None, tenant: str | None = None, limit: int = 10,
        mode: str = "hybrid", use_cache: bool = True, explain: bool = True,
    ) -> SearchResult:  # fmt: skip
        started = time.perf_counter()
        query = self._validate(query, kind, limit, mode)
        key = cache_key(query, kind=kind, tenant=tenant, limit=limit, mode=mode)
        if use_cache and self.cache is not None:
            cached = self.cache.get(key)
            if cached is not None:
                hits = [Hit(**h) for h in cached]
                return SearchResult(query, mode, hits, True, time.perf_counter() - started)
        try:
            hits, truncated, state = self._run(query, kind, tenant, limit, mode, explain)
        except (OSError, RuntimeError) as exc:  # a table rewritten under us: reopen once
            if isinstance(exc, IndexMissing):
                raise
            self._tables = {}
            hits, truncated, state = self._run(query, kind, tenant, limit, mode, explain)
        if use_cache and explain and self.cache is not None and state is not None:
            self.cache.put(key, [asdict(h) for h in hits], state)
        return SearchResult(query, mode, hits, False, time.perf_counter() - started, truncated)

    @staticmethod
    def _validate(query: str, kind: str | None, limit: int, mode: str) -> str:
        if query is None or not query.strip():
            raise QueryError("empty query: type what you are looking for, e.g. 'Dünger für Raps'")
        if len(query) > MAX_QUERY_CHARS:
            raise QueryError(f"query of {len(query):,} characters; at most {MAX_QUERY_CHARS:,} are searched")
        if kind is not None and kind not in TABLE_OF_KIND:
            raise QueryError(f"kind {kind!r}: one of {', '.join(TABLE_OF_KIND)}")
        if mode not in MODES:
            raise QueryError(f"mode {mode!r}: one of {', '.join(MODES)}")
        if not 1 <= limit <= MAX_LIMIT:
            raise QueryError(f"limit {limit}: between 1 and {MAX_LIMIT}")
        return query.strip()

    def _run(self, query: str, kind: str | None, tenant: str | None, limit: int, mode: str, explain: bool = True):
        by_mode, truncated, scope, text_query = self._rankings(query, kind, tenant, (mode,))
        state = self._state  # of the tables just searched
        hits = by_mode[mode][:limit]
        if explain:
            self._explain(hits, text_query, scope)
        return hits, truncated, state

    def compare(self, query: str, *, limit: int = 10, modes: tuple[str, ...] = MODES) -> dict[str, list[Hit]]:
        """The hits of several modes for one query, each ranking computed once (the evaluation's
        way: no cache, no reasons)."""
        query = self._validate(query, None, limit, "hybrid")
        by_mode, _, _, _ = self._rankings(query, None, None, modes)
        return {mode: hits[:limit] for mode, hits in by_mode.items()}

    def _rankings(self, query: str, kind: str | None, tenant: str | None, modes: tuple[str, ...]):
        tables = self._open()
        scope = {name: t for name, t in tables.items() if kind is None or KIND_OF_TABLE[name] == kind}
        where = _tenant_filter(tenant)
        words = query.split()
        truncated = len(words) > MAX_TEXT_WORDS
        text_query = " ".join(words[:MAX_TEXT_WORDS])
        wanted = set(modes)
        embedded = self._pool.submit(self._embed, query, scope) if wanted & {"hybrid", "vector"} else None
        exact = text = every = None
        if wanted & {"hybrid", "text"}:
            exact = self._pool.submit(self._exact_numbers, words, scope, where)
            words_q, grams_q, every_q = full_text_queries(text_query)
            text = self._pool.submit(self._text_ranking, words_q, scope, where)
            grams = self._pool.submit(self._text_ranking, grams_q, scope, where)
            every = self._pool.submit(self._text_ranking, every_q, scope, where)
            text = _merge_scores(text.result(), grams.result())[: self.candidates]
        exact, every = (f.result() if f else [] for f in (exact, every))
        text = text or []
        meaning = self._vector_ranking(embedded.result(), scope, where) if embedded else []
        by_mode = {}
        if "vector" in wanted:
            by_mode["vector"] = self._fuse([], meaning, [], [])
        if "text" in wanted:
            by_mode["text"] = self._fuse(exact, [], text, every)
        if "hybrid" in wanted:
            by_mode["hybrid"] = self._fuse(exact, meaning, text, every)
        return by_mode, truncated, scope, text_query

    def _embed(self, query: str, scope: dict) -> dict[str, np.ndarray]:
        """The query's vector per model of the tables searched."""
        vectors: dict[str, np.ndarray] = {}
        for table in scope.values():
            embedder = self._embedder_for(table)
            if embedder.model_id not in vectors:
                vectors[embedder.model_id] = embedder.encode([query])[0]
        return vectors

    def _vector_ranking(self, vectors: dict[str, np.ndarray], scope: dict, where: str | None) -> list[dict]:
        rows: list[dict] = []
        for table in scope.values():
            search = table.search(vectors[self._embedder_for(table).model_id], vector_column_name="vector")
            search = search.distance_type("cosine")
            if where:
                search = search.where(where, prefilter=True)
            rows += search.select([*SHOWN, "_distance"]).limit(self.candidates).to_arrow().to_pylist()
        rows.sort(key=lambda r: r["_distance"])
        return rows[: self.candidates]

    def _text_ranking(self, fts: BooleanQuery, scope: dict, where: str | None) -> list[dict]:
        rows: list[dict] = []
        for table in scope.values():
            search = table.search(fts, query_type="fts")
            if where:
                search = search.where(where, prefilter=True)
            rows += search.select([*SHOWN, "text", "_score"]).limit(self.candidates).to_arrow().to_pylist()
        rows.sort(key=lambda r: -r["_score"])
        return rows[: self.candidates]

    def _exact_numbers(self, words: list[str], scope: dict, where: str | None) -> list[dict]:
        """Rows whose article or customer number the query names (as typed, or upper case)."""
        numbers = {v for w in words if NUMBER_LIKE.match(w) for v in (w, w.upper())}
        if not numbers:
            return []
        condition = f"number IN ({index.quote(sorted(numbers))})" + (f" AND {where}" if where else "")
        rows: list[dict] = []
        for table in scope.values():
            rows += table.search().where(condition).select([*SHOWN, "text"]).limit(MAX_LIMIT).to_arrow().to_pylist()
        return sorted(rows, key=lambda r: (r["number"], r["kind"], r["tenant_id"], r["id"]))

    def _fuse(self, exact: list[dict], vector: list[dict], text: list[dict], every: list[dict]) -> list[Hit]:
        hits: dict[tuple[str, str], Hit] = {}
        texts = self._last_texts = {}

        def hit_for(row: dict) -> Hit:
            key = (row["kind"], row["id"])
            if key not in hits:
                hits[key] = Hit(**{c: row[c] for c in SHOWN})
            if "text" in row:
                texts[key] = row["text"]
            return hits[key]

        for row in exact:
            hit_for(row).exact = True
        for rank, row in enumerate(vector, start=1):
            hit = hit_for(row)
            hit.vector_rank, hit.similarity = rank, 1.0 - float(row["_distance"])
            hit.score += self.weights[0] / (self.rrf_k + rank)
        for rank, row in enumerate(text, start=1):
            hit = hit_for(row)
            hit.text_rank, hit.text_score = rank, float(row["_score"])
            hit.score += self.weights[1] / (self.rrf_k + rank)
        for rank, row in enumerate(every, start=1):
            hit = hit_for(row)
            hit.all_words = True
            hit.score += self.weights[2] / (self.rrf_k + rank)
        best = lambda h: min((r for r in (h.vector_rank, h.text_rank) if r is not None), default=0)
        return sorted(hits.values(), key=lambda h: (not h.exact, -h.score, best(h), h.number or "", h.id))

    def _explain(self, hits: list[Hit], query: str, scope: dict) -> None:
        """The query's words (as the word index reads them) that each hit's text contains."""
        texted = [h for h in hits if h.text_rank is not None or h.exact]
        if not texted:
            return
        by_kind = {KIND_OF_TABLE[n]: t for n, t in scope.items()}
        wanted = {
            kind: [t.text for t in by_kind[kind].tokenize(query, index_name=index.TEXT_INDEX)]
            for kind in {h.kind for h in texted}
        }
        for hit in texted:
            text = self._last_texts.get((hit.kind, hit.id), "")
            have = {t.text for t in by_kind[hit.kind].tokenize(text, index_name=index.TEXT_INDEX)} if text else set()
            hit.matched = list(dict.fromkeys(w for w in wanted[hit.kind] if w in have))


def fuzziness(word: str) -> int:
    """Edits forgiven in a word: none up to 4 letters (KAS, Hof), one up to 7, two beyond."""
    return 0 if len(word) <= 4 else 1 if len(word) <= 7 else 2


def _word(word: str) -> BooleanQuery | MatchQuery:
    """A word as typed, or within the edits its length allows at half the weight: the exact
    spelling ranks first, and a fuzzy expansion never hides the exact term."""
    exact = MatchQuery(word, "text")
    edits = fuzziness(word)
    if not edits:
        return exact
    fuzzy = MatchQuery(word, "text", fuzziness=edits, max_expansions=20, boost=FUZZY_BOOST)
    return BooleanQuery([(Occur.SHOULD, exact), (Occur.SHOULD, fuzzy)])


def full_text_queries(query: str) -> tuple[BooleanQuery, MatchQuery, BooleanQuery]:
    """The queries of the words ranking (each word, with the edits its length allows; and the
    words' n-grams, a match weighing 0.3), run separately (faster than one boolean query) and
    summed per row as a boolean SHOULD would; and of the all-words ranking. Stop words are left
    out ('für', 'bei' match nothing)."""
    words = [w for w in (w.strip(PUNCTUATION) for w in query.split()) if w and index.fold(w) not in index.STOP_WORDS]
    if not words:  # only stop words: search them as they are rather than nothing
        words = query.split()
    any_word = BooleanQuery([(Occur.SHOULD, _word(w)) for w in words])
    every_word = BooleanQuery([(Occur.MUST, _word(w)) for w in words])
    return any_word, MatchQuery(" ".join(words), "grams", boost=GRAMS_BOOST), every_word


def _merge_scores(*rankings: list[dict]) -> list[dict]:
    """Rows of several rankings, their scores summed per row, best first."""
    merged: dict[tuple[str, str], dict] = {}
    for ranking in rankings:
        for row in ranking:
            key = (row["kind"], row["id"])
            if key in merged:
                merged[key]["_score"] += row["_score"]
            else:
                merged[key] = dict(row)
    return sorted(merged.values(), key=lambda r: -r["_score"])


def as_table(hits: list[Hit]) -> pa.Table:
    return pa.Table.from_pylist([asdict(h) | {"why": h.why} for h in hits])
