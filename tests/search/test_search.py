"""Hybrid search on the demo data: filters, the German tokenizer (compounds, umlauts, stop words,
misspellings, article and BVL numbers), reasons, and the queries a person may type badly.

Bad inputs tried: an empty and a blank query, 2,000 and 2,001 characters, a query of stop words
only, an unknown kind or mode, a limit of 0, queries in English and Polish."""

from __future__ import annotations

import numpy as np
import pytest
from lancedb.background_loop import LOOP
from lancedb.query import BooleanQuery, MatchQuery, Occur

from neuroerp.search import index
from neuroerp.search.cache import QueryCache
from neuroerp.search.config import ARTICLES, TABLES
from neuroerp.search.documents import customer_grams, customer_text
from neuroerp.search.search import (
    GRAMS_BOOST,
    MAX_QUERY_CHARS,
    SEPARATOR,
    QueryError,
    Searcher,
    _open_tables,
    _tokens_of_each,
    _word,
    _word_clauses,
    full_text_queries,
    fuzziness,
    grams_query,
    query_grams,
    query_words,
)  # fmt: skip


@pytest.fixture(scope="module")
def searcher(base_home) -> Searcher:
    home, _ = base_home
    return Searcher(home.settings.vectors_dir)  # no cache: every search runs


@pytest.fixture(scope="module")
def articles(base_home):
    home, _ = base_home
    return home.documents()[ARTICLES].frame


def test_filters_by_tenant_and_kind(searcher):
    for tenant in ("lh-nord", "lh-sued"):
        hits = searcher.search("Hof", tenant=tenant, limit=30).hits
        assert hits and {h.tenant_id for h in hits} == {tenant}
    assert {h.kind for h in searcher.search("Hof", kind="customer", limit=30).hits} == {"customer"}
    assert {h.kind for h in searcher.search("Hof", kind="article", limit=30).hits} == {"article"}
    assert not searcher.search("Hof", tenant="no-such-tenant").hits
    mixed = searcher.search("Weizen", limit=50).hits
    assert {h.kind for h in mixed} == {"article", "customer"}  # no filter: both tables


def test_the_tokenizer_reads_german(base_home):
    home, _ = base_home
    table = index.open_table(index.connect(home.settings.vectors_dir), ARTICLES)
    tokens = [
        t.text for t in table.tokenize("Dünger für den Raps im Frühjahr, P100023 024395-00", index_name="text_idx")
    ]
    assert tokens == ["dung", "raps", "fruhjahr", "p100023", "024395", "00"]  # stems, folded, no stop words
    grams = {t.text for t in table.tokenize("Winterweizen", index_name="grams_idx")}
    assert {"weiz", "eize", "izen"} <= grams  # Weizen inside the compound (4-grams)


@pytest.mark.parametrize(
    ("query", "name_part"),
    [
        ("Gerste", "gerste"),  # only inside compounds: Wintergerste, Braugerste, Futtergerste
        ("Dunger", "dünger"),  # umlaut typed without its dots
        ("Kalkamonsalpeter", "Kalkammonsalpeter"),  # misspelt
        ("Kalkamonsalpter", "Kalkammonsalpeter"),  # misspelt twice: beyond the word index's one edit
        ("Stickstoff", "Kalkstickstoff"),  # a word inside a compound of the name
    ],
)
def test_words_find_compounds_folded_umlauts_and_misspellings(searcher, query, name_part):
    hits = searcher.search(query, mode="text", kind="article").hits
    assert any(name_part.lower() in h.name.lower() for h in hits[:3]), [h.name for h in hits[:3]]


def test_an_article_number_puts_that_article_first(searcher, articles):
    number = articles["number"][7]
    for typed in (number, number.lower(), f"Artikel {number} bitte"):
        hits = searcher.search(typed).hits
        assert {h.number for h in hits[:2]} == {number} and hits[0].exact and "number" in hits[0].why


def test_a_bvl_number_finds_its_product(searcher, articles):
    row = articles.filter(articles["psm_reg_no"].is_not_null()).row(0, named=True)
    hits = searcher.search(row["psm_reg_no"], mode="text").hits
    assert hits[0].name.split(",")[0] == row["name"].split(",")[0]
    assert row["psm_reg_no"].split("-")[0].lower() in hits[0].matched


def test_every_hit_says_why_it_matched(searcher):
    hits = searcher.search("Milchleistungsfutter lose").hits
    assert hits and all(h.why for h in hits)
    assert "milchleistungsfutt" in hits[0].matched and "words #" in hits[0].why and "meaning #" in hits[0].why


def test_a_long_query_is_searched_and_a_longer_one_refused(searcher):
    long = ("Kalkammonsalpeter für Winterweizen im Frühjahr " * 60)[:MAX_QUERY_CHARS]
    result = searcher.search(long)
    assert result.hits and result.truncated
    with pytest.raises(QueryError, match="2,001 characters"):
        searcher.search(long + "x")


@pytest.mark.parametrize(
    ("query", "kwargs", "message"),
    [
        ("", {}, "empty query"),
        ("   \n\t", {}, "empty query"),
        ("Dünger", {"kind": "supplier"}, "kind 'supplier'"),
        ("Dünger", {"mode": "magic"}, "mode 'magic'"),
        ("Dünger", {"limit": 0}, "limit 0"),
    ],
)
def test_bad_queries_get_a_clear_error(searcher, query, kwargs, message):
    with pytest.raises(QueryError, match=message):
        searcher.search(query, **kwargs)


def test_queries_of_stop_words_or_in_other_languages_still_answer(searcher):
    assert searcher.search("für die mit").hits  # stop words only: searched as typed
    english = searcher.search("Triticale seed", kind="article").hits
    assert "triticale" in english[0].name.lower()  # a product name crosses languages
    assert searcher.search("nawóz azotowy dla rzepaku").hits  # Polish: no error, ranked hits
    # The default model is English: it does not translate. "winter wheat seed" finds winter crops'
    # seed by its English subwords, not necessarily wheat (documented in the README).
    assert {h.category for h in searcher.search("winter wheat seed", kind="article").hits[:3]} == {"seed"}


def test_a_new_cache_file_adopts_the_index_state_and_caches(base_home, tmp_path):
    home, report = base_home
    with QueryCache(tmp_path / "new-cache.sqlite") as cache:
        searcher = Searcher(home.settings.vectors_dir, cache)
        assert cache.state() is None
        assert not searcher.search("Hafer").cached
        assert cache.state() == report.state  # adopted from the tables' versions
        assert searcher.search("hafer ").cached  # same question typed differently


# ---------------------------------------------------------------------------------- fast paths
# Bad inputs tried here: a text holding the tokenizer's separator word, an umlaut and ß in n-grams,
# a query shorter than an n-gram, a remembered-vector bound of 2.

QUERIES = ("Dünger für Raps im Frühjahr", "Hof", "Eiweißfutter aus Übersee", "Kalkamonsalpeter", "K200042 Biohof")


def test_concurrent_and_one_by_one_searches_give_the_same_hits(base_home, searcher):
    home, _ = base_home
    one_by_one = Searcher(home.settings.vectors_dir, concurrent=False, query_vectors=0)
    for query in QUERIES:
        for options in ({}, {"kind": "customer"}, {"tenant": "lh-nord", "limit": 30}, {"mode": "text"}):
            assert searcher.search(query, **options).hits == one_by_one.search(query, **options).hits, (query, options)
    assert searcher.compare("Hafer") == one_by_one.compare("Hafer")


def test_a_shorter_limit_gives_the_first_hits_of_a_longer_one(base_home):
    """Only the top hits are read; rows tied with the last shown are read too and ordered by
    number and id, so a limit never picks among ties differently. Equal weights for meaning and
    words make ties: a row only at meaning rank r and one only at words rank r score the same."""
    home, _ = base_home
    tied = Searcher(home.settings.vectors_dir, weights=(1.0, 1.0, 0.0))
    ties = 0
    for query in ("Futter", "Hof", "Dünger für Raps"):
        full = tied.search(query, limit=60).hits
        ties += len(full) - len({(h.score, h.vector_rank or h.text_rank) for h in full})
        for limit in range(1, 60):
            assert tied.search(query, limit=limit).hits == full[:limit], (query, limit)
    assert ties > 5


@pytest.mark.parametrize("query", ["Eiweißfutter aus Übersee", "Düngerstreuer", "Kalkamonsalpeter 27", "K200042"])
def test_the_n_gram_clauses_score_as_one_match_query_over_the_text(base_home, query):
    home, _ = base_home
    words = query_words(query)
    found = 0
    for name in TABLES:
        table = index.open_table(index.connect(home.settings.vectors_dir), name)
        whole = _scores(table, MatchQuery(" ".join(words), "grams", boost=GRAMS_BOOST))
        assert _scores(table, grams_query(query_grams(words))) == pytest.approx(whole, rel=1e-4), (
            name
        )  # summed in another order
        found += len(whole)
    assert found  # rows of one table at least


def _scores(table, fts) -> dict[int, float]:
    """Every row a full-text query finds, by row id, with its score."""
    found = table.search(fts, query_type="fts").with_row_id(True).select(["_score"]).limit(10_000).to_arrow()
    return dict(zip(found["_rowid"].to_pylist(), [round(s, 4) for s in found["_score"].to_pylist()], strict=True))


def test_n_grams_are_the_query_slices_the_index_reads_as_one_term(base_home):
    home, _ = base_home
    table = index.open_table(index.connect(home.settings.vectors_dir), ARTICLES)
    grams = query_grams(["Eiweißfutter", "Übersee"])
    assert "eißf" in grams and "er ü" in grams  # cut before folding: the index's term is "eissf"
    assert all(len(list(table.tokenize(g, index_name=index.GRAMS_INDEX))) == 1 for g in grams)
    assert len({index.fold(g) for g in grams}) == len(grams)  # one clause per term
    assert query_grams(["KAS"]) == [] and full_text_queries("KAS")[1] is None  # shorter than an n-gram


@pytest.mark.parametrize(
    "query", ["Landwirt aus Schleswig-Holstein", "Lohnunternehmen Niedersachsen", "Hof Weizen KAS"]
)
def test_the_flat_words_query_scores_as_one_clause_per_word(base_home, query):
    home, _ = base_home
    nested = BooleanQuery([(Occur.SHOULD, _word(w)) for w in query_words(query)])
    flat = full_text_queries(query)[0]
    assert len(flat.queries) > len(nested.queries)  # a clause per spelling, not per word
    for name in TABLES:
        table = index.open_table(index.connect(home.settings.vectors_dir), name)
        assert _scores(table, flat) == _scores(table, nested), name


def test_the_customers_n_grams_read_name_number_and_place_and_the_words_read_everything():
    """Land and type as 4-grams made every n-gram lookup of "Niedersachsen" or "Lohnunternehmen"
    read a fifth of the customers; the word index still finds them as typed."""
    row = {
        "name": "Hofgut Quendelwiese", "number": "K200042", "postal_code": "21614", "city": "Buxtehude",
        "district": "Landkreis Stade", "state_code": "NI", "country_code": "DE", "customer_type": "contractor",
    }  # fmt: skip
    grams, words = customer_grams(row), customer_text(row)
    assert all(part in grams for part in ("Hofgut Quendelwiese", "K200042", "21614 Buxtehude", "Landkreis Stade"))
    assert "Niedersachsen" not in grams and "Lohnunternehmen" not in grams and "Deutschland" not in grams
    assert all(part in words for part in ("Niedersachsen", "Lohnunternehmen", "Hofgut Quendelwiese", "K200042"))


def test_words_of_five_letters_and_more_are_forgiven_one_edit():
    assert [fuzziness(w) for w in ("KAS", "Raps", "Mais", "Gerste", "Kalkammonsalpeter")] == [0, 0, 0, 1, 1]
    as_typed, *forgiven = _word_clauses("Schleswig-Holstein")  # each part by its own length
    assert as_typed.fuzziness == 0 and [(c.query, c.fuzziness) for c in forgiven] == [("Schleswig", 1), ("Holstein", 1)]


def test_a_one_word_query_ranks_all_words_as_words(base_home, searcher):
    home, _ = base_home
    words_q, _, every_q = full_text_queries("Weizen")
    assert every_q is None and full_text_queries("Weizen Saat")[2] is not None
    table = index.open_table(index.connect(home.settings.vectors_dir), ARTICLES)
    must = BooleanQuery([(Occur.MUST, _word("Weizen"))])
    ranked = [table.search(q, query_type="fts").limit(100).to_arrow()["id"].to_pylist() for q in (words_q, must)]
    assert ranked[0] and ranked[0] == ranked[1]  # one clause: MUST and SHOULD find and score the same
    hits = searcher.search("Weizen", mode="text").hits
    assert any(h.matched for h in hits) and all(h.all_words for h in hits if h.matched)  # it has the word: all words


def test_texts_are_tokenized_in_one_call_and_a_text_holding_the_separator_alone(base_home):
    home, _ = base_home
    table = LOOP.run(_open_tables(home.settings.vectors_dir))[0][ARTICLES]
    texts = ["Dünger für Raps", "", f"Winterweizen {SEPARATOR} Saatgut", "024395-00"]
    one_each = [{t.text for t in LOOP.run(table.tokenize(x, index_name=index.TEXT_INDEX))} for x in texts]
    assert LOOP.run(_tokens_of_each(table, texts)) == one_each
    assert LOOP.run(_tokens_of_each(table, [texts[0], texts[3]])) == [one_each[0], one_each[3]]


def test_query_vectors_are_remembered_within_a_bound(base_home, embedder):
    home, _ = base_home
    remembering = Searcher(home.settings.vectors_dir, query_vectors=2)
    first = remembering.query_vector("Hafer", embedder)
    assert remembering.query_vector("Hafer", embedder) is first  # not embedded again
    remembering.query_vector("Gerste", embedder)
    remembering.query_vector("Roggen", embedder)
    assert [q for _, q in remembering._vectors] == ["Gerste", "Roggen"]  # the oldest went
    assert remembering.query_vector("Hafer", embedder) is not first
    forgetting = Searcher(home.settings.vectors_dir, query_vectors=0)
    assert forgetting.query_vector("Hafer", embedder) is not forgetting.query_vector("Hafer", embedder)
    assert remembering.search("Hafer", kind="article").hits == forgetting.search("Hafer", kind="article").hits


def test_a_query_is_embedded_as_encode_does_on_one_thread_then_the_threads_come_back(embedder):
    import torch

    before = torch.get_num_threads()
    for text in ("Dünger für Raps im Frühjahr", "winter wheat seed", "x", "Kalkammonsalpeter " * 120):
        assert np.allclose(embedder.encode_query(text), embedder.encode([text])[0], atol=1e-5)
    assert torch.get_num_threads() == before


def test_the_tenant_filter_reads_a_bitmap_index_not_every_row(base_home):
    home, _ = base_home
    for name in TABLES:
        table = index.open_table(index.connect(home.settings.vectors_dir), name)
        assert {index.TEXT_INDEX, index.GRAMS_INDEX, index.NUMBER_INDEX, index.TENANT_INDEX} <= {
            i.name for i in table.list_indices()
        }
        filtered = table.search(MatchQuery("hof", "text"), query_type="fts").where("tenant_id = 'lh-nord'")
        assert f"@{index.TENANT_INDEX}" in filtered.explain_plan(), name
