"""Hybrid search on the demo data: filters, the German tokenizer (compounds, umlauts, stop words,
misspellings, article and BVL numbers), reasons, and the queries a person may type badly.

Bad inputs tried: an empty and a blank query, 2,000 and 2,001 characters, a query of stop words
only, an unknown kind or mode, a limit of 0, queries in English and Polish."""

from __future__ import annotations

import pytest

from neuroerp.search import index
from neuroerp.search.cache import QueryCache
from neuroerp.search.config import ARTICLES
from neuroerp.search.search import MAX_QUERY_CHARS, QueryError, Searcher


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
