"""Hybrid search over the index: vector similarity and LanceDB's native full-text search, fused by
reciprocal rank fusion (RRF), filtered by tenant and kind, with a reason for every hit.

- Words: full-text queries per table over two indexes: German words of the whole text (stemmed,
  umlauts folded, edits forgiven by word length) and 4-grams of the same text (compounds,
  misspellings), an n-gram weighing less than a word. The tables' BM25 rankings are merged.
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

import asyncio
import json
import re
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import lancedb
import numpy as np
import pyarrow as pa
from lancedb.background_loop import LOOP  # the event loop thread that LanceDB's synchronous API runs on
from lancedb.query import BooleanQuery, MatchQuery, Occur
from lancedb.table import AsyncTable

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
GRAMS_BOOST = 0.3  # an n-gram match counts less than a whole word
FUZZY_BOOST = 0.5  # and a word within edits less than the word as typed
SHOWN = ["id", "tenant_id", "kind", "number", "name", "category", "place", "active"]
PUNCTUATION = ".,;:!?()[]\"'"
WORD_PARTS = re.compile(r"[\W_]+")  # where the word index's simple tokenizer splits a word
QUERY_VECTORS = 1_024  # query vectors remembered per Searcher
SEPARATOR = "qxqsepqxq"  # between texts tokenized in one call (a word no text holds, kept as it is)
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
    One search at a time per Searcher (threads: one Searcher each).

    A search is one coroutine on LanceDB's event loop: the full-text queries, the number lookup and
    the vector searches of both tables run concurrently through LanceDB's asynchronous API (its
    synchronous one costs about 1 ms of Python per query, and runs them one after another), while
    the query is embedded in a thread. The rankings read only row ids and scores; the columns of
    a hit (names, texts) are read for the fused top hits alone (reading them for every candidate
    cost 2 to 3 ms per ranking and table). `concurrent=False` awaits one query after another, with
    the same results."""

    def __init__(
        self, vectors_dir: Path, cache: QueryCache | None = None, rrf_k: int = RRF_K, candidates: int = CANDIDATES,
        weights: tuple[float, float, float] = WEIGHTS, concurrent: bool = True, query_vectors: int = QUERY_VECTORS,
        precision: str = "auto",
    ) -> None:  # fmt: skip
        self.vectors_dir = Path(vectors_dir)
        self.cache = cache
        self.rrf_k = rrf_k
        self.candidates = candidates
        self.weights = weights  # (meaning, words, all words) in the fusion
        self.concurrent = concurrent
        self.query_vectors = query_vectors  # how many query vectors are remembered (0: none)
        self.precision = precision  # of the query model's weights (see embedding.pick_precision)
        self._tables: dict[str, AsyncTable] = {}
        self._embedders: dict[str | None, Embedder] = {}  # by the model id the tables record
        self._table_embedders: dict[str, Embedder] = {}  # of the tables open now
        self._state: str | None = None
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()  # (model id, query) -> vector
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-embed")

    # ------------------------------------------------------------------------------ tables

    def _open(self) -> dict[str, AsyncTable]:
        """The tables at their latest version: reopened when the sync recorded a new index state
        (every query, without a cache to read the state from)."""
        state = self.cache.state() if self.cache else None
        if not self._tables or state is None or state != self._state:
            self._tables, versions = LOOP.run(_open_tables(self.vectors_dir))
            self._table_embedders = {}
            if self._tables and self.cache is not None and state is None:  # a new cache file: adopt the index
                state = state_of(versions)
                self.cache.set_state(state)
            self._state = state
        if not self._tables:
            raise IndexMissing(f"no search index under {self.vectors_dir}: materialise the search assets first")
        return self._tables

    async def _embedder_for(self, name: str, table: AsyncTable) -> Embedder:
        """The model that built the table: queries must live in the same vector space."""
        if name in self._table_embedders:
            return self._table_embedders[name]
        first = (await table.query().select(["model"]).limit(1).to_arrow()).column("model").to_pylist()
        model_id = first[0] if first else None
        embedder = self._embedders.get(model_id)
        if embedder is None:
            spec = index.model_spec_in(await table.schema()) or DEFAULT_MODEL
            embedder = load_embedder(spec, precision=self.precision)
            if model_id is not None and embedder.model_id != model_id:
                raise IndexMissing(
                    f"the index was built with {model_id}, but {embedder.model_id} is what loads here; "
                    "run the search sync with this machine's model"
                )
            self._embedders[model_id] = embedder
        self._table_embedders[name] = embedder
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
        tables = self._open()
        state = self._state  # of the tables searched
        scope = {name: t for name, t in tables.items() if kind is None or KIND_OF_TABLE[name] == kind}
        by_mode, truncated = LOOP.run(self._search(query, scope, tenant, (mode,), limit, explain))
        return by_mode[mode], truncated, state

    def compare(self, query: str, *, limit: int = 10, modes: tuple[str, ...] = MODES) -> dict[str, list[Hit]]:
        """The hits of several modes for one query, each ranking computed once (the evaluation's
        way: no cache, no reasons)."""
        query = self._validate(query, None, limit, "hybrid")
        by_mode, _ = LOOP.run(self._search(query, self._open(), None, modes, limit, explain=False))
        return by_mode

    async def _gather(self, *coroutines) -> list:
        if self.concurrent:
            return list(await asyncio.gather(*coroutines))
        return [await c for c in coroutines]

    async def _search(
        self, query: str, scope: dict[str, AsyncTable], tenant: str | None, modes: tuple[str, ...], limit: int,
        explain: bool,
    ) -> tuple[dict[str, list[Hit]], bool]:  # fmt: skip
        where = _tenant_filter(tenant)
        words = query.split()
        truncated = len(words) > MAX_TEXT_WORDS
        text_query = " ".join(words[:MAX_TEXT_WORDS])
        wanted = set(modes)
        parts = {}  # coroutines of the rankings wanted
        if wanted & {"hybrid", "vector"}:
            parts["meaning"] = self._vector_ranking(query, scope, where)  # first: the embedding starts at once
        if wanted & {"hybrid", "text"}:
            words_q, grams_q, every_q = full_text_queries(text_query)
            parts["exact"] = self._exact_numbers(words, scope, where)
            parts["text"] = self._text_ranking(words_q, scope, where)
            if grams_q is not None:
                parts["grams"] = self._text_ranking(grams_q, scope, where)
            if every_q is not None:
                parts["every"] = self._text_ranking(every_q, scope, where)
        done = dict(zip(parts, await self._gather(*parts.values()), strict=True))
        meaning, exact, text, grams = (done.get(k, []) for k in ("meaning", "exact", "text", "grams"))
        every = done.get("every", text)  # one word: its words ranking
        text = _merge_scores(text, grams)[: self.candidates]
        rankings = {
            "vector": ([], meaning, [], []), "text": (exact, [], text, every), "hybrid": (exact, meaning, text, every),
        }  # fmt: skip
        fused = {mode: self._fuse(*rankings[mode], limit) for mode in modes}
        rows = {(r["table"], r["_rowid"]): r for r in exact}  # read already: their numbers were looked up
        await self._read([e for entries in fused.values() for e in entries], scope, rows)
        by_mode = {mode: _top(entries, rows, limit) for mode, entries in fused.items()}
        if explain:
            await self._explain([h for hits in by_mode.values() for h in hits], text_query, scope, rows)
        return by_mode, truncated

    def query_vector(self, query: str, embedder: Embedder) -> np.ndarray:
        """The query's vector by `embedder`, remembered for the last `query_vectors` queries (in
        this process only): the same words with another filter, limit or mode, or after the sync
        changed the index (which empties the answer cache), are not embedded again."""
        key = (embedder.model_id, query)
        vector = self._vectors.get(key)
        if vector is None:
            vector = embedder.encode_query(query)
            if self.query_vectors:
                self._vectors[key] = vector
            while len(self._vectors) > self.query_vectors:
                self._vectors.popitem(last=False)
        else:
            self._vectors.move_to_end(key)
        return vector

    async def _vector_ranking(self, query: str, scope: dict[str, AsyncTable], where: str | None) -> list[dict]:
        embedders = {name: await self._embedder_for(name, table) for name, table in scope.items()}
        loop = asyncio.get_running_loop()
        vectors = {}  # per model of the tables searched, embedded in a thread while the text queries run
        for embedder in embedders.values():
            if embedder.model_id not in vectors:
                vectors[embedder.model_id] = await loop.run_in_executor(self._pool, self.query_vector, query, embedder)

        async def nearest(name: str, table: AsyncTable) -> list[dict]:
            search = table.query().nearest_to(vectors[embedders[name].model_id]).column("vector")
            search = search.distance_type("cosine")
            if where:
                search = search.where(where)  # a prefilter: the nearest rows of the tenant
            found = await search.with_row_id().select(["_distance"]).limit(self.candidates).to_arrow()
            return _ranked(name, found, "_distance")

        rows = [r for part in await self._gather(*(nearest(n, t) for n, t in scope.items())) for r in part]
        rows.sort(key=lambda r: r["_distance"])
        return rows[: self.candidates]

    async def _text_ranking(self, fts: BooleanQuery, scope: dict[str, AsyncTable], where: str | None) -> list[dict]:
        async def best(name: str, table: AsyncTable) -> list[dict]:
            search = table.query().nearest_to_text(fts)
            if where:
                search = search.where(where)  # a prefilter
            return _ranked(name, await search.with_row_id().select(["_score"]).limit(self.candidates).to_arrow())

        rows = [r for part in await self._gather(*(best(n, t) for n, t in scope.items())) for r in part]
        rows.sort(key=lambda r: -r["_score"])
        return rows[: self.candidates]

    async def _exact_numbers(self, words: list[str], scope: dict[str, AsyncTable], where: str | None) -> list[dict]:
        """Rows whose article or customer number the query names (as typed, or upper case)."""
        numbers = {v for w in words if NUMBER_LIKE.match(w) for v in (w, w.upper())}
        if not numbers:
            return []
        condition = f"number IN ({index.quote(sorted(numbers))})" + (f" AND {where}" if where else "")

        async def named(name: str, table: AsyncTable) -> list[dict]:
            found = table.query().where(condition).with_row_id().select([*SHOWN, "text"]).limit(MAX_LIMIT)
            return [r | {"table": name} for r in (await found.to_arrow()).to_pylist()]

        rows = [r for part in await self._gather(*(named(n, t) for n, t in scope.items())) for r in part]
        return sorted(rows, key=lambda r: (r["number"], r["kind"], r["tenant_id"], r["id"]))

    def _fuse(self, exact: list[dict], vector: list[dict], text: list[dict], every: list[dict], limit: int):
        """The candidates by fused score: the top `limit` and the rows tied with the last of them
        (ties are ordered by number and id, known once read)."""
        fused: dict[tuple[str, int], _Fused] = {}

        def entry(row: dict) -> _Fused:
            key = (row["table"], row["_rowid"])
            if key not in fused:
                fused[key] = _Fused(key)
            return fused[key]

        for row in exact:
            entry(row).exact = True
        for rank, row in enumerate(vector, start=1):
            e = entry(row)
            e.vector_rank, e.similarity = rank, 1.0 - float(row["_distance"])
            e.score += self.weights[0] / (self.rrf_k + rank)
        for rank, row in enumerate(text, start=1):
            e = entry(row)
            e.text_rank, e.text_score = rank, float(row["_score"])
            e.score += self.weights[1] / (self.rrf_k + rank)
        for rank, row in enumerate(every, start=1):
            e = entry(row)
            e.all_words = True
            e.score += self.weights[2] / (self.rrf_k + rank)
        ranked = sorted(fused.values(), key=_Fused.order)
        if len(ranked) > limit:
            last = ranked[limit - 1].order()
            ranked = [e for e in ranked if e.order() <= last]
        return ranked

    async def _read(self, entries: list[_Fused], scope: dict[str, AsyncTable], rows: dict) -> None:
        """The shown columns and text of rows not read yet, by row id, into `rows` (the table
        versions of the search: a handle stays on the version it opened)."""
        wanted: dict[str, list[int]] = {}
        for e in entries:
            if e.key not in rows and e.key[1] not in wanted.setdefault(e.key[0], []):
                wanted[e.key[0]].append(e.key[1])

        async def take(name: str, ids: list[int]) -> list[dict]:
            found = await scope[name].take_row_ids(ids).with_row_id().select([*SHOWN, "text"]).to_arrow()
            return [r | {"table": name} for r in found.to_pylist()]

        for part in await self._gather(*(take(n, ids) for n, ids in wanted.items() if ids)):
            rows.update({(r["table"], r["_rowid"]): r for r in part})

    async def _explain(self, hits: list[Hit], query: str, scope: dict[str, AsyncTable], rows: dict) -> None:
        """The query's words (as the word index reads them) that each hit's text contains: one
        tokenizer call per table for the query and one for the texts of all its hits."""
        texts = {(r["kind"], r["id"]): r["text"] for r in rows.values()}
        texted = [h for h in hits if h.text_rank is not None or h.exact]
        for name, table in scope.items():
            mine = [h for h in texted if h.kind == KIND_OF_TABLE[name]]
            if not mine:
                continue
            wanted = [t.text for t in await table.tokenize(query, index_name=index.TEXT_INDEX)]
            have = await _tokens_of_each(table, [texts.get((h.kind, h.id), "") for h in mine])
            for hit, tokens in zip(mine, have, strict=True):
                hit.matched = list(dict.fromkeys(w for w in wanted if w in tokens))


async def _open_tables(vectors_dir: Path) -> tuple[dict[str, AsyncTable], dict[str, int]]:
    """The index's tables opened for asynchronous queries, and their versions."""
    vectors_dir.mkdir(parents=True, exist_ok=True)
    db = await lancedb.connect_async(str(vectors_dir))
    names = set((await db.list_tables()).tables)
    tables = {name: await db.open_table(name) for name in TABLES if name in names}
    return tables, {name: await t.version() for name, t in tables.items()}


def fuzziness(word: str) -> int:
    """Edits forgiven in a word: none up to 4 letters (KAS, Hof), one beyond. Two edits for words
    of 8 letters and more cost twice the CPU of the word queries (LanceDB walks its term dictionary
    with a two-edit automaton) and changed no answer of the labelled queries: the 4-grams find what
    is misspelt twice."""
    return 0 if len(word) <= 4 else 1


def _word_clauses(word: str) -> list[MatchQuery]:
    """A word as typed, and within the edits its length allows at half the weight: the exact
    spelling ranks first, and a fuzzy expansion never hides the exact term. A word the tokenizer
    splits (Schleswig-Holstein, A-Qualität) is forgiven edits by the length of each part: "A"
    within an edit by "A-Qualität"'s length matched every short token of every row."""
    clauses = [MatchQuery(word, "text")]
    for part in WORD_PARTS.split(word):
        if edits := fuzziness(part):
            clauses.append(MatchQuery(part, "text", fuzziness=edits, max_expansions=20, boost=FUZZY_BOOST))
    return clauses


def _word(word: str) -> BooleanQuery | MatchQuery:
    """A word's clauses as one query: a row matches when it has either."""
    clauses = _word_clauses(word)
    return clauses[0] if len(clauses) == 1 else BooleanQuery([(Occur.SHOULD, c) for c in clauses])


def query_words(query: str) -> list[str]:
    """The words the text indexes are asked for: punctuation stripped, stop words left out ('für',
    'bei' match nothing); a query of stop words only is searched as typed rather than not at all."""
    words = [w for w in (w.strip(PUNCTUATION) for w in query.split()) if w and index.fold(w) not in index.STOP_WORDS]
    return words or query.split()


def query_grams(words: list[str]) -> list[str]:
    """The n-grams of the words as the grams index holds them, each as the slice of the query that
    yields it alone: the index cuts the lower-cased text into 4-character windows and then folds
    each (ß -> ss), so "eißf" is the term `eissf`, which "eissf" would not find. One per term."""
    text = " ".join(words).lower()
    n = index.GRAMS_LENGTH
    windows = [text[i : i + n] for i in range(len(text) - n + 1)]
    return list({index.fold(w): w for w in reversed(windows)}.values())[::-1]


def grams_query(grams: list[str]) -> BooleanQuery:
    """One clause per n-gram, a match weighing GRAMS_BOOST. The BM25 scores are those of one match
    query over the whole text, but LanceDB answers the boolean query 3 to 4 times faster when many
    n-grams are common (p95 at 100k rows, both tables: 17 ms instead of 64 ms)."""
    return BooleanQuery([(Occur.SHOULD, MatchQuery(g, "grams", boost=GRAMS_BOOST)) for g in grams])


def full_text_queries(query: str) -> tuple[BooleanQuery, BooleanQuery | None, BooleanQuery | None]:
    """The queries of the words ranking (each word, with the edits its length allows; and the
    words' n-grams, a match weighing 0.3), run separately (faster than one boolean query) and
    summed per row as a boolean SHOULD would; and of the all-words ranking. The n-gram query is
    None for words shorter than an n-gram; the all-words query None for a single word, whose
    all-words ranking is its words ranking (one clause, MUST or SHOULD: the same rows and scores)."""
    words = query_words(query)
    # flat: one SHOULD clause per word and spelling, the scores of SHOULD clauses nested per word,
    # but 2 to 6 times faster where the words are common ("Landwirt": half the customers)
    any_word = BooleanQuery([(Occur.SHOULD, c) for w in words for c in _word_clauses(w)])
    every_word = BooleanQuery([(Occur.MUST, _word(w)) for w in words]) if len(words) > 1 else None
    grams = query_grams(words)
    return any_word, (grams_query(grams) if grams else None), every_word


async def _tokens_of_each(table: AsyncTable, texts: list[str]) -> list[set[str]]:
    """The word index's tokens of each text, by one tokenizer call: the texts joined by a separator
    word that no text holds and that the tokenizer keeps as it is."""
    if not texts:
        return []
    joined = f" {SEPARATOR} ".join(t or "" for t in texts)
    out: list[set[str]] = [set()]
    for token in await table.tokenize(joined, index_name=index.TEXT_INDEX):
        if token.text == SEPARATOR:
            out.append(set())
        else:
            out[-1].add(token.text)
    if len(out) != len(texts):  # a text held the separator after all: one call each
        return [{t.text for t in await table.tokenize(text, index_name=index.TEXT_INDEX)} for text in texts]
    return out


@dataclass
class _Fused:
    """A candidate of the fusion, known by its table and row id until it is read."""

    key: tuple[str, int]  # (table, row id)
    score: float = 0.0
    exact: bool = False
    vector_rank: int | None = None
    similarity: float | None = None
    text_rank: int | None = None
    text_score: float | None = None
    all_words: bool = False

    def order(self) -> tuple:
        """The ranking's order but for the last tie-breaker (number, id), known once read."""
        best = min((r for r in (self.vector_rank, self.text_rank) if r is not None), default=0)
        return (not self.exact, -self.score, best)

    def hit(self, row: dict) -> Hit:
        return Hit(
            **{c: row[c] for c in SHOWN}, score=self.score, vector_rank=self.vector_rank, similarity=self.similarity,
            text_rank=self.text_rank, text_score=self.text_score, exact=self.exact, all_words=self.all_words,
        )  # fmt: skip


def _top(entries: list[_Fused], rows: dict, limit: int) -> list[Hit]:
    """The hits of the fused candidates, read, in the ranking's order (ties by number and id)."""
    hits = [(e.order(), e.hit(rows[e.key])) for e in entries]
    hits.sort(key=lambda pair: (pair[0], pair[1].number or "", pair[1].id))
    return [hit for _, hit in hits[:limit]]


def _ranked(table: str, found: pa.Table, score: str = "_score") -> list[dict]:
    """A ranking's rows: table, row id and score."""
    ids, scores = found.column("_rowid").to_pylist(), found.column(score).to_pylist()
    return [{"table": table, "_rowid": i, score: v} for i, v in zip(ids, scores, strict=True)]


def _merge_scores(*rankings: list[dict]) -> list[dict]:
    """Rows of several rankings, their scores summed per row, best first."""
    merged: dict[tuple[str, int], dict] = {}
    for ranking in rankings:
        for row in ranking:
            key = (row["table"], row["_rowid"])
            if key in merged:
                merged[key]["_score"] += row["_score"]
            else:
                merged[key] = dict(row)
    return sorted(merged.values(), key=lambda r: -r["_score"])


def as_table(hits: list[Hit]) -> pa.Table:
    return pa.Table.from_pylist([asdict(h) | {"why": h.why} for h in hits])
