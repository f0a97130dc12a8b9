"""The index follows the warehouse and embeds only what changed.

Bad inputs tried: a price and stock change (nothing to embed), an id that comes twice in one batch,
a soft-deleted and a hard-deleted row, a model change with the same vector size and with another,
a model name that is not a local folder (nothing may be downloaded)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import replace

import numpy as np
import polars as pl
import pytest

from neuroerp.search import documents, index
from neuroerp.search.config import ARTICLES, CUSTOMERS, DEFAULT_MODEL
from neuroerp.search.documents import Documents, _finish
from neuroerp.search.embedding import (
    ModelNotAvailable,
    batch_size_for,
    load_embedder,
    native_bfloat16,
    pick_device,
    pick_precision,
    resolve_model,
)
from neuroerp.search.service import open_searcher, sync_documents


def _table(home, name):
    return index.open_table(index.connect(home.settings.vectors_dir), name)


def _ids(home, name) -> set[str]:
    return set(index.indexed_state(_table(home, name))["id"].to_list())


def test_the_first_sync_embeds_every_current_row_and_each_vector_records_its_model(base_home, embedder):
    home, report = base_home
    docs = home.documents()
    for name in (ARTICLES, CUSTOMERS):
        result = report.results[name]
        assert result.inserted == docs[name].frame.height == result.rows > 100
        assert result.changed == result.deleted == result.model_changed == 0
        held = index.indexed_state(_table(home, name))
        assert set(held["model"].unique()) == {embedder.model_id}
        assert set(held["id"]) == set(docs[name].frame["id"])
    assert report.model_id.startswith("all-MiniLM-L6-v2@") and report.device in ("cpu", "cuda")
    vectors = _table(home, ARTICLES).to_arrow().column("vector").to_numpy(zero_copy_only=False)
    assert np.allclose(np.linalg.norm(np.stack(vectors), axis=1), 1.0, atol=1e-4)  # cosine = dot product


def test_a_second_sync_without_changes_embeds_nothing_and_keeps_the_version(home):
    before = {n: _table(home, n).version for n in (ARTICLES, CUSTOMERS)}
    report = home.sync()
    assert {n: r.embedded + r.deleted for n, r in report.results.items()} == {ARTICLES: 0, CUSTOMERS: 0}
    assert {n: r.version for n, r in report.results.items()} == before
    assert report.purged == 0


def test_price_and_stock_changes_embed_nothing(home):
    with home.connect() as conn:
        conn.execute("update raw.articles set list_price = list_price + 1, unit_cost = unit_cost + 0.5")
        conn.execute("update raw.stock_levels set on_hand = on_hand + 7")
        conn.execute("update raw.customers set phone = '+49 4441 12345', email = 'neu@example.org'")
    report = home.sync()
    assert report.results[ARTICLES].embedded == 0
    assert report.results[CUSTOMERS].embedded == 0


def test_a_renamed_article_embeds_one_row_and_is_found_by_its_new_name(home):
    with home.connect() as conn:
        article_id = conn.execute("select article_id from staging.articles order by article_no limit 1").fetchone()[0]
        conn.execute(
            "update raw.articles set name = 'Zauberkorn Xylophan, 25 kg Sack' where article_id = ?", [article_id]
        )
    started = dt.datetime.now(dt.UTC)
    report = home.sync()
    assert (report.results[ARTICLES].changed, report.results[ARTICLES].embedded) == (1, 1)
    rows = _table(home, ARTICLES).to_arrow().to_pylist()
    (renamed,) = [r for r in rows if r["id"] == article_id]
    assert renamed["embedded_at"] >= started and renamed["kind"] == "article"  # when, and what it is
    assert {r["kind"] for r in _table(home, CUSTOMERS).to_arrow().select(["kind"]).to_pylist()} == {"customer"}
    assert report.results[ARTICLES].inserted == report.results[ARTICLES].deleted == 0
    assert report.results[CUSTOMERS].embedded == 0
    hits = open_searcher(home.settings).search("Xylophan", mode="text").hits
    assert hits[0].id == article_id and "xylophan" in hits[0].matched
    assert hits[0].text_rank == 1  # ranks count from 1, as the fusion's 1 / (k + rank) assumes


@pytest.mark.parametrize("held_by_id", [index.HELD_BY_ID, 10])  # vectors read by id, or in one scan
def test_a_new_ngram_text_alone_keeps_the_vectors_and_a_renamed_row_is_embedded(home, monkeypatch, held_by_id):
    """What the n-gram index reads changed (an upgrade: the customers' n-grams lost their Land),
    so every customer's stored row changed, but not the text the model reads: its vector and when
    it was made are kept. A customer renamed in the same sync is embedded."""
    monkeypatch.setattr(index, "HELD_BY_ID", held_by_id)
    before = {
        r["id"]: r
        for r in _table(home, CUSTOMERS).to_arrow().select(["id", "vector", "embedded_at", "grams"]).to_pylist()
    }
    renamed = sorted(before)[3]
    with home.connect() as conn:
        conn.execute("update raw.customers set name = 'Hofgut Quendelwiese' where customer_id = ?", [renamed])
    monkeypatch.setattr(documents, "customer_grams", lambda row: f"{row['name']}. {row.get('city') or ''}")
    result = home.sync().results[CUSTOMERS]
    assert (result.changed, result.reused, result.embedded) == (len(before), len(before) - 1, 1)
    after = {r["id"]: r for r in _table(home, CUSTOMERS).to_arrow().to_pylist()}
    kept = [i for i in before if i != renamed]
    assert all(
        after[i]["vector"] == before[i]["vector"] and after[i]["embedded_at"] == before[i]["embedded_at"] for i in kept
    )
    assert all(after[i]["grams"] != before[i]["grams"] and after[i]["model"] for i in kept)
    assert (
        after[renamed]["embedded_at"] > before[renamed]["embedded_at"]
        and after[renamed]["vector"] != before[renamed]["vector"]
    )
    assert open_searcher(home.settings).search("Quendelwiese", mode="text").hits[0].id == renamed


def test_new_rows_are_in_the_full_text_indexes_after_the_sync(home):
    with home.connect() as conn:
        conn.execute(
            "insert into raw.articles select * replace ('a-new-1' as article_id, 'Quendelmehl Sonderposten' as name, "
            "'X999001' as article_no) from raw.articles order by article_no limit 1"
        )
    report = home.sync()
    assert report.results[ARTICLES].inserted == 1
    table = _table(home, ARTICLES)
    for name in (index.TEXT_INDEX, index.GRAMS_INDEX):
        assert table.index_stats(name).num_unindexed_rows == 0, name  # optimize() folded the row in
    hits = open_searcher(home.settings).search("Quendelmehl", mode="text").hits
    assert hits[0].id == "a-new-1"


def test_soft_and_hard_deleted_rows_leave_the_index(home):
    with home.connect() as conn:
        soft, hard = [
            r[0] for r in conn.execute("select article_id from staging.articles order by 1 limit 2").fetchall()
        ]
        conn.execute("update raw.articles set deleted_at = now() where article_id = ?", [soft])
        conn.execute("delete from raw.articles where article_id = ?", [hard])
    report = home.sync()
    assert report.results[ARTICLES].deleted == 2 and report.results[ARTICLES].embedded == 0
    assert not {soft, hard} & _ids(home, ARTICLES)


def test_a_batch_with_an_id_twice_is_deduplicated_before_merge_insert(home):
    docs = home.documents()
    frame = docs[ARTICLES].frame
    first = frame.row(0, named=True)
    twin = frame.head(1).with_columns(name=pl.lit("Doppelt geliefert"), text=pl.lit("Doppelt geliefert. Anderer Text."))
    both_orders = [pl.concat([frame, twin]), pl.concat([twin, frame])]
    kept = []
    for doubled in both_orders:
        again = _finish(ARTICLES, doubled.drop("content_hash"))
        assert again.duplicates == [first["id"]] and again.frame.height == frame.height
        kept.append(again.frame.filter(pl.col("id") == first["id"])["content_hash"].item())
    assert kept[0] == kept[1]  # the same row wins whatever the order
    report = sync_documents({ARTICLES: again, CUSTOMERS: docs[CUSTOMERS]}, home.settings)
    assert report.results[ARTICLES].duplicates == [first["id"]]
    held = index.indexed_state(_table(home, ARTICLES))
    assert held.filter(pl.col("id") == first["id"]).height == 1 and held.height == frame.height


def _variant_model(tmp_path, embedder, **pooling) -> str:
    """The packaged model with another pooling: same files but one, other vectors, same size."""
    folder = tmp_path / "minilm-cls"
    shutil.copytree(embedder.folder, folder)
    config = folder / "1_Pooling" / "config.json"
    settings = json.loads(config.read_text()) | pooling
    config.write_text(json.dumps(settings, indent=2))
    return str(folder)


def _small(docs: dict[str, Documents], n: int = 25) -> dict[str, Documents]:
    return {name: replace(d, frame=d.frame.head(n)) for name, d in docs.items()}


def test_a_model_change_reembeds_everything_and_search_uses_the_new_model(home, embedder, tmp_path):
    docs = _small(home.documents())
    settings = replace(home.settings, home=tmp_path / "small")
    assert sync_documents(docs, settings).results[ARTICLES].inserted == 25
    variant = _variant_model(tmp_path, embedder, pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    report = sync_documents(docs, replace(settings, model=variant))
    other = load_embedder(variant)
    assert other.model_id != embedder.model_id and other.model_id.startswith("minilm-cls@")
    for name in (ARTICLES, CUSTOMERS):
        result = report.results[name]
        assert (result.model_changed, result.changed, result.inserted, result.rows) == (25, 0, 0, 25)
        held = index.indexed_state(index.open_table(index.connect(settings.vectors_dir), name))
        assert set(held["model"]) == {other.model_id}
        assert index.model_spec_of(index.open_table(index.connect(settings.vectors_dir), name)) == variant
    searcher = open_searcher(settings)
    name = docs[ARTICLES].frame["name"][3]
    hits = searcher.search(name, mode="vector", kind="article").hits
    assert hits[0].name == name and searcher._embedders[other.model_id] is other
    again = sync_documents(docs, replace(settings, model=variant))
    assert sum(r.embedded for r in again.results.values()) == 0


def test_a_new_ngram_text_and_a_new_model_together_keep_no_vector_of_the_old_model(
    home, embedder, tmp_path, monkeypatch
):
    """Rows changed only in what the n-gram index reads keep their vector only if the configured
    model made it: with a new model in the same sync every one is embedded again."""
    settings = replace(home.settings, home=tmp_path / "small")
    sync_documents(_small(home.documents()), settings)
    monkeypatch.setattr(documents, "customer_grams", lambda row: row["name"])
    variant = _variant_model(tmp_path, embedder, pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    result = sync_documents(_small(home.documents()), replace(settings, model=variant)).results[CUSTOMERS]
    assert (result.changed, result.reused, result.embedded) == (25, 0, 25)


def test_a_model_with_another_vector_size_recreates_the_tables(home, embedder, tmp_path):
    from sentence_transformers import SentenceTransformer, models

    folder = tmp_path / "minilm-64"
    dense = models.Dense(embedder.dimension, 64)
    SentenceTransformer(modules=[*embedder.model, dense], device="cpu").save(str(folder))
    docs = _small(home.documents(), 10)
    settings = replace(home.settings, home=tmp_path / "small")
    sync_documents(docs, settings)
    report = sync_documents(docs, replace(settings, model=str(folder)))
    for name in (ARTICLES, CUSTOMERS):
        assert "vector size 384 -> 64" in report.results[name].recreated
        assert report.results[name].inserted == 10
        table = index.open_table(index.connect(settings.vectors_dir), name)
        assert index.vector_dimension(table) == 64


def test_the_model_loads_offline_on_the_device_present():
    import os

    import torch

    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert pick_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_device("cpu") == "cpu" and batch_size_for("cpu") == 64
    assert resolve_model(DEFAULT_MODEL)[1].joinpath("model.safetensors").is_file()
    with pytest.raises(ModelNotAvailable, match="nothing is downloaded"):
        resolve_model("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2")


def test_bfloat16_where_the_cpu_computes_it_with_the_vectors_of_float32():
    """The weights' format follows the CPU; the vectors stay float32 of unit length, agree with
    float32 weights, and keep the model id (no re-embedding when the format changes)."""
    assert pick_precision("cpu", "auto") == ("bfloat16" if native_bfloat16() else "float32")
    assert pick_precision("cuda", "auto") == "float32"
    assert pick_precision("cpu", "float32") == "float32" and pick_precision("cuda:1", "bfloat16") == "bfloat16"
    with pytest.raises(ValueError, match="one of auto, float32, bfloat16"):
        pick_precision("cpu", "float16")
    exact, fast = load_embedder(precision="float32"), load_embedder(precision="bfloat16")
    assert (exact.precision, fast.precision) == ("float32", "bfloat16") and exact.model_id == fast.model_id
    texts = ["YaraBela Kalkammonsalpeter 27 % N, lose", "Lohnunternehmen Thiele GmbH & Co. KG, Klosterlechfeld", "x"]
    a, b = exact.encode(texts), fast.encode(texts)
    assert b.dtype == np.float32 and np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-6)
    assert (a * b).sum(axis=1).min() > 0.99
    assert np.allclose(fast.encode_query(texts[0]), b[0], atol=1e-6)


def test_the_searcher_embeds_queries_in_the_configured_format(home):
    searcher = open_searcher(replace(home.settings, precision="float32"))
    assert searcher.search("Dünger für Raps", use_cache=False).hits
    assert [e.precision for e in searcher._embedders.values()] == ["float32"]


def test_going_offline_also_reaches_a_hub_imported_before(monkeypatch):
    """huggingface_hub reads HF_HUB_OFFLINE once, when imported: setting the variable is not
    enough once anything imported it first, so its constant is switched too."""
    import huggingface_hub.constants as constants

    from neuroerp.search.embedding import go_offline

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    go_offline()
    assert constants.HF_HUB_OFFLINE is True


def test_a_large_table_gets_a_vector_index_that_a_rebuild_replaces(tmp_path):
    """From VECTOR_INDEX_MIN_ROWS rows a vector index is built; `replace` (a model change) builds
    every index again over the existing ones instead of failing on their names."""
    import lancedb
    import pyarrow as pa

    n, rng = index.VECTOR_INDEX_MIN_ROWS, np.random.default_rng(18)
    vectors = rng.normal(size=(n, 32)).astype(np.float32)
    rows = pa.table({"text": [f"Artikel {i}" for i in range(n)], "grams": [f"art {i}" for i in range(n)],
                     "number": pa.array([str(i) for i in range(n)], pa.string()), "tenant_id": ["t"] * n,
                     "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), vectors.shape[1])})  # fmt: skip
    table = lancedb.connect(tmp_path).create_table("probe", rows)
    index.ensure_indexes(table)
    assert index.VECTOR_INDEX in {i.name for i in table.list_indices()}
    index.ensure_indexes(table, replace=True)
    assert len({i.name for i in table.list_indices()}) == 5
