"""The query cache: hits, misses, the TTL, invalidation when the index changes, statistics.

Bad inputs tried: an answer stored for an index state that moved on meanwhile, a clock past the
TTL, a lookup before any index exists."""

from __future__ import annotations

from neuroerp.search.cache import QueryCache, cache_key
from neuroerp.search.service import open_searcher


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_hit_miss_ttl_and_invalidation(tmp_path):
    clock = Clock()
    with QueryCache(tmp_path / "c.sqlite", ttl_s=300, clock=clock) as cache:
        key = cache_key("Dünger  für RAPS", kind=None)
        assert key == cache_key("dünger für raps", kind=None) != cache_key("dünger für raps", kind="article")
        assert cache.get(key) is None  # no index state yet
        assert cache.set_state("v1") == 0
        assert cache.put(key, [{"id": "a"}], "v1")
        assert cache.get(key) == [{"id": "a"}]
        clock.now += 300  # at the TTL: still fresh
        assert cache.get(key) == [{"id": "a"}]
        clock.now += 0.001  # past it: expired, and gone
        assert cache.get(key) is None and cache.stats().entries == 0
        assert cache.put(key, [{"id": "b"}], "v1")
        assert not cache.put(cache_key("x"), [{"id": "c"}], "v0")  # computed on an index that moved on
        assert cache.set_state("v1") == 0  # same state: nothing purged
        assert cache.set_state("v2") == 1  # the index changed: the answer goes
        assert cache.get(key) is None
        stats = cache.stats()
        assert (stats.hits, stats.misses, stats.expired, stats.invalidations, stats.purged) == (2, 3, 1, 2, 1)
        assert stats.hit_rate == 2 / 5 and stats.entries == 0


def test_report_gives_the_change_since_the_last_report(tmp_path):
    with QueryCache(tmp_path / "c.sqlite") as cache:
        cache.set_state("v1")
        cache.get("k")
        total, since = cache.report()
        assert (total.misses, since.misses) == (1, 1)
        cache.put("k", [], "v1")
        cache.get("k")
        cache.get("k")
        total, since = cache.report()
        assert (total.lookups, since.lookups, since.hits, since.hit_rate) == (3, 2, 2, 1.0)


def test_a_search_is_cached_until_the_index_changes(home):
    searcher = open_searcher(home.settings)
    first = searcher.search("Kalkammonsalpeter")
    second = searcher.search("kalkammonsalpeter")
    assert not first.cached and second.cached and [h.id for h in first.hits] == [h.id for h in second.hits]
    assert second.seconds < first.seconds
    assert not searcher.search("kalkammonsalpeter", use_cache=False).cached
    with home.connect() as conn:
        conn.execute(
            "update raw.articles set name = name || ' neu' where article_id = (select min(article_id) from raw.articles)"
        )
    report = home.sync()
    assert report.purged >= 1 and report.cache_since.hits >= 1 and report.cache_since.hit_rate is not None
    assert not searcher.search("Kalkammonsalpeter").cached  # answered from the new index
