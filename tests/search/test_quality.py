"""Retrieval quality on the labelled German queries: hybrid beats vector-only and full-text-only
on recall@10 and MRR (the figures of the demo data are in the README)."""

from __future__ import annotations

from neuroerp.search.evaluation import QUERIES, K, LabelledQuery, evaluate, relevant_ids, score
from neuroerp.search.search import Searcher


def test_the_set_has_50_german_queries_with_answers_in_the_demo_data(base_home):
    home, _ = base_home
    docs = home.documents()
    applicable = [q for q in QUERIES if relevant_ids(q, docs)]
    assert len(QUERIES) >= 50 and len(applicable) >= 50
    tags = {t for q in QUERIES for t in q.tags}
    assert {"synonym", "misspelling", "crop", "season", "place", "compound", "number"} <= tags
    assert {q.kind for q in QUERIES} == {"article", "customer"}


def test_scores_are_capped_recall_and_reciprocal_rank():
    q = LabelledQuery("x", "article", "true")
    assert score(q, {"a", "b"}, ["z", "a", "b"]) == (1.0, 0.5)
    assert score(q, {f"r{i}" for i in range(30)}, [f"r{i}" for i in range(K)]) == (1.0, 1.0)  # capped at 10
    assert score(q, {"a"}, [f"z{i}" for i in range(K)] + ["a"]) == (0.0, 0.0)  # rank 11 is not in the top 10


def test_hybrid_beats_vector_only_and_full_text_only(base_home):
    home, _ = base_home
    scores, _ = evaluate(Searcher(home.settings.vectors_dir), home.documents())
    hybrid, vector, text = scores["hybrid"], scores["vector"], scores["text"]
    print({m: (round(s.recall, 3), round(s.mrr, 3)) for m, s in scores.items()})
    assert hybrid.recall > max(vector.recall, text.recall)
    assert hybrid.mrr > max(vector.mrr, text.mrr)
