"""The LanceDB tables `articles` and `customers` under NEUROERP_HOME/vectors/, kept equal to the
warehouse by embedding only what changed.

Per table and run: the documents' content hashes are compared with the hashes and model ids the
index holds. New rows and rows whose hash changed are embedded; rows whose model differs from the
configured one are embedded again (a model change re-embeds everything); rows no longer in the
warehouse are deleted. Embedded rows go in with one `merge_insert` on `id` (the batch deduplicated
before); afterwards `optimize()` folds new rows into the full-text indexes and compacts the files.

Personal data is forgotten physically, not only logically: LanceDB marks deleted and replaced rows
in deletion files and keeps the old data files for older versions. So when a customer row is
deleted or changed, the table is rewritten from its current rows (vectors reused, nothing
embedded again), its full-text indexes are rebuilt, and every older version is removed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import lancedb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from lancedb.index import FTS, Bitmap, BTree, IvfHnswSq

from neuroerp.search.config import CUSTOMERS, TABLES
from neuroerp.search.documents import ROW_COLUMNS, Documents
from neuroerp.search.embedding import Embedder

PERSONAL = frozenset({CUSTOMERS})  # tables whose forgotten rows must leave the disk, not only the index
TEXT_INDEX, GRAMS_INDEX, NUMBER_INDEX, VECTOR_INDEX = "text_idx", "grams_idx", "number_idx", "vector_idx"
TENANT_INDEX = "tenant_idx"
# scalar indexes: numbers looked up by the exact-number ranking; the tenant filter, applied before
# each ranking (without an index it read every row's tenant: at 100k rows a filtered search took
# 50 ms of CPU instead of 30, p95 264 ms)
SCALAR_INDEXES = {"number": (NUMBER_INDEX, BTree), "tenant_id": (TENANT_INDEX, Bitmap)}
VECTOR_INDEX_MIN_ROWS = 5_000
FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss", "é": "e", "è": "e", "à": "a", "ç": "c"})


def fold(word: str) -> str:
    """Lower case and umlauts folded, as the indexes read a word (Dünger -> dunger)."""
    return word.lower().translate(FOLD)


# German stop words (Snowball's list and a few of the counter's: "suche", "bitte"), folded: the
# index folds umlauts before it drops stop words, so its own list would miss "für" and "über".
STOP_WORDS = frozenset(
    fold(w)
    for w in """aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes
    auch auf aus bei bin bis bist bitte da damit dann das dass daß dein deine dem den der des dich die dies diese
    diesem diesen dieser dieses dir doch dort du durch ein eine einem einen einer eines er es etwas euch euer eure
    für fürs beim gegen gibt gesucht hab habe haben hat hatte hier hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer
    im in indem ins ist jede jedem jeden jeder jedes jetzt kann kein keine keinem keinen keiner man mein meine
    mich mir mit muss nach nicht nichts noch nun nur ob oder sehr sein seine sich sie sind so soll sollte
    sondern such suche suchen über um und uns unser unsere unter vom von vor war waren was weil welche welchem
    welchen welcher welches wenn wer werden wie wieder will wir wird wo wollen zu zum zur zwischen""".split()
)
# Words: German Snowball stemming, umlauts folded (Dünger = Dunger = dünger), split at punctuation,
# so "024395-00" is found as "024395" and "00", and "P100023" stays one token.
WORDS = FTS(
    base_tokenizer="simple", language="German", stem=True, remove_stop_words=True,
    custom_stop_words=sorted(STOP_WORDS), ascii_folding=True, lower_case=True, max_token_length=40,
)  # fmt: skip
# Trigrams of the name and description (customers: name and place): German compounds (Gerste in
# Wintergerste, Dünger in Stickstoffdünger) and misspellings (Kalkamonsalpeter) share most of their
# trigrams with the word meant.
GRAMS_LENGTH = 4
GRAMS = FTS(
    base_tokenizer="ngram", ngram_min_length=GRAMS_LENGTH, ngram_max_length=GRAMS_LENGTH, prefix_only=False, ascii_folding=True,
    lower_case=True, stem=False, remove_stop_words=False,
)  # fmt: skip
DELETE_CHUNK = 1_000
HELD_BY_ID = 2_000  # vectors kept for more rows than this are read in one scan, not by id
KEEP_VERSIONS = dt.timedelta(hours=1)  # readers of a table without personal data may finish on an old version


MODEL_SPEC_KEY = b"neuroerp.model_spec"  # schema metadata: the model setting that built the table


def schema(dimension: int, model_spec: str = "") -> pa.Schema:
    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("tenant_id", pa.string()),
            pa.field("kind", pa.string()),
            pa.field("number", pa.string()),
            pa.field("name", pa.string()),
            pa.field("category", pa.string()),
            pa.field("place", pa.string()),
            pa.field("active", pa.bool_()),
            pa.field("text", pa.string()),
            pa.field("grams", pa.string()),
            pa.field("content_hash", pa.string()),
            pa.field("model", pa.string()),
            pa.field("embedded_at", pa.timestamp("us", tz="UTC")),
            pa.field("vector", pa.list_(pa.float32(), dimension)),
        ],
        metadata={MODEL_SPEC_KEY: model_spec.encode()},
    )


def model_spec_of(table) -> str:
    return model_spec_in(table.schema)


def model_spec_in(schema: pa.Schema) -> str:
    return (schema.metadata or {}).get(MODEL_SPEC_KEY, b"").decode()


@dataclass
class SyncResult:
    """What one run did to one table."""

    table: str
    rows: int = 0  # rows in the index afterwards
    inserted: int = 0  # new in the warehouse
    changed: int = 0  # text (or another stored field) changed
    reused: int = 0  # of the changed rows: the text was the same, so the vector was kept
    model_changed: int = 0  # embedded again because the model changed
    deleted: int = 0  # gone from the warehouse, or withheld under the GDPR
    unchanged: int = 0
    duplicates: list[str] = field(default_factory=list)
    withheld: int = 0
    rewritten: bool = False  # rewritten to drop personal data physically
    recreated: str | None = None  # why the table was made anew (first run, vector size changed)
    version: int = 0
    seconds_embed: float = 0.0
    seconds: float = 0.0

    @property
    def embedded(self) -> int:
        return self.inserted + self.changed - self.reused + self.model_changed


def connect(vectors_dir: Path) -> lancedb.DBConnection:
    vectors_dir.mkdir(parents=True, exist_ok=True)
    return lancedb.connect(str(vectors_dir))


def table_names(db: lancedb.DBConnection) -> set[str]:
    return set(db.list_tables().tables)


def open_table(db: lancedb.DBConnection, name: str):
    return db.open_table(name) if name in table_names(db) else None


def vector_dimension(table) -> int:
    return table.schema.field("vector").type.list_size


def indexed_state(table) -> pl.DataFrame:
    """id, content_hash, model and text of every row the index holds (a column scan, no vectors)."""
    if table is None:
        return pl.DataFrame(schema={c: pl.String for c in ("id", "content_hash", "model", "text")})
    return pl.from_arrow(columns(table, ["id", "content_hash", "model", "text"]))


def columns(table, names: list[str]) -> pa.Table:
    """Some columns of every row, read without the others (the vectors are most of a table)."""
    return table.search().select(names).limit(None).to_arrow()


def _arrow_rows(
    frame: pl.DataFrame, vectors: np.ndarray, embedder: Embedder, embedded_at: pa.Array | None = None
) -> pa.Table:
    """The index's rows: the documents, their vectors, the model, and when each vector was made
    (now, or as held for a vector kept)."""
    rows = frame.select(ROW_COLUMNS).to_arrow()
    n = rows.num_rows
    flat = pa.array(vectors.reshape(-1), type=pa.float32())
    columns = {name: rows.column(name) for name in ROW_COLUMNS}
    columns |= {
        "model": pa.array([embedder.model_id] * n, pa.string()),
        "embedded_at": embedded_at if embedded_at is not None else pa.array([dt.datetime.now(dt.UTC)] * n),
        "vector": pa.FixedSizeListArray.from_arrays(flat, embedder.dimension),
    }
    target = schema(embedder.dimension, embedder.spec)
    return pa.table([columns[f.name].cast(f.type) for f in target], schema=target)


def vector_index_config() -> IvfHnswSq:
    return IvfHnswSq(distance_type="cosine")


def ensure_indexes(table, replace: bool = False) -> None:
    """The two full-text indexes (words and 4-grams) on the table's text; a B-tree on its numbers
    and a bitmap on its tenants; from 5,000 rows a vector index (flat search grows with the rows:
    110 ms at 80,000)."""
    have = {i.name for i in table.list_indices()}
    if (replace or VECTOR_INDEX not in have) and table.count_rows() >= VECTOR_INDEX_MIN_ROWS:
        table.create_index("vector", config=vector_index_config(), replace=True, name=VECTOR_INDEX)
    for column, config, name in (("text", WORDS, TEXT_INDEX), ("grams", GRAMS, GRAMS_INDEX)):
        if replace or name not in have:
            table.create_index(column, config=config, replace=True, name=name)
    for column, (name, kind) in SCALAR_INDEXES.items():
        if replace or name not in have:
            table.create_index(column, config=kind(), replace=True, name=name)


def _held_vectors(table, ids: list[str]) -> pa.Table:
    """id, vector and embedded_at of some rows: by id where they are few, else one column scan."""
    wanted = ["id", "vector", "embedded_at"]
    if len(ids) > HELD_BY_ID:
        found = columns(table, wanted)
        return found.filter(pc.is_in(found.column("id"), pa.array(ids)))
    parts = [
        table.search().where(f"id IN ({quote(ids[i : i + DELETE_CHUNK])})").select(wanted).limit(None).to_arrow()
        for i in range(0, len(ids), DELETE_CHUNK)
    ]
    return pa.concat_tables(parts)


def quote(ids: list[str]) -> str:
    return ", ".join("'" + i.replace("'", "''") + "'" for i in ids)


def _delete(table, ids: list[str]) -> None:
    for start in range(0, len(ids), DELETE_CHUNK):
        table.delete(f"id IN ({quote(ids[start : start + DELETE_CHUNK])})")


@contextlib.contextmanager
def _quiet_cleanup() -> Iterator[None]:
    """optimize(cleanup_older_than=0) warns about concurrent readers: we run it on purpose, as the
    only writer (the Dagster pool), and the searcher reopens a table that vanished under it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"optimize\(cleanup_older_than=0\)")
        yield


def forget_old_versions(table) -> None:
    """Drop every version but the latest, and files of failed writes: what was deleted is gone."""
    with _quiet_cleanup():
        table.optimize(cleanup_older_than=dt.timedelta(0), delete_unverified=True)


def sync_table(db: lancedb.DBConnection, docs: Documents, embedder: Embedder) -> SyncResult:
    """Bring one table in line with its documents; embed only what changed."""
    started = time.perf_counter()
    result = SyncResult(table=docs.table, duplicates=docs.duplicates, withheld=docs.withheld)
    table = open_table(db, docs.table)
    if table is not None and vector_dimension(table) != embedder.dimension:
        result.recreated = f"vector size {vector_dimension(table)} -> {embedder.dimension} (model changed)"
        db.drop_table(docs.table)
        table = None
    elif table is None:
        result.recreated = "first run"

    wanted = docs.rows
    held = indexed_state(table)
    joined = wanted.select("id", "content_hash").join(held, on="id", how="left", suffix="_held")
    new_ids = joined.filter(pl.col("model").is_null())["id"]
    changed_ids = joined.filter(pl.col("model").is_not_null() & (pl.col("content_hash") != pl.col("content_hash_held")))
    model_ids = joined.filter(
        pl.col("model").is_not_null()
        & (pl.col("content_hash") == pl.col("content_hash_held"))
        & (pl.col("model") != embedder.model_id)
    )
    gone = held.join(wanted.select("id"), on="id", how="anti")["id"].to_list()
    # a changed row whose text, what the model reads, is the one held keeps its vector
    same_text = wanted.select("id", "text").join(held.select("id", "text", "model"), on="id", suffix="_held")
    reuse_ids = same_text.filter(
        pl.col("id").is_in(changed_ids["id"].implode())
        & (pl.col("text") == pl.col("text_held"))
        & (pl.col("model") == embedder.model_id)
    )["id"]
    result.inserted, result.changed, result.model_changed = len(new_ids), changed_ids.height, model_ids.height
    result.reused, result.deleted = len(reuse_ids), len(gone)
    embed_ids = pl.concat([new_ids, changed_ids["id"], model_ids["id"]])
    embed_ids = embed_ids.filter(~embed_ids.is_in(reuse_ids.implode()))
    to_embed = wanted.filter(pl.col("id").is_in(embed_ids.implode()))
    result.unchanged = wanted.height - to_embed.height - result.reused

    embed_started = time.perf_counter()
    vectors = embedder.encode(to_embed["text"].to_list())
    result.seconds_embed = time.perf_counter() - embed_started
    batch = _arrow_rows(to_embed, vectors, embedder)
    if result.reused:
        kept = pl.from_arrow(_held_vectors(table, reuse_ids.to_list()))
        kept = wanted.join(kept, on="id")  # the documents' order, with the vectors held
        vectors_held = kept["vector"].to_numpy().astype(np.float32, copy=False)
        batch = pa.concat_tables([batch, _arrow_rows(kept, vectors_held, embedder, kept["embedded_at"].to_arrow())])

    replaced = result.changed + result.model_changed + result.deleted
    if table is None:
        table = db.create_table(docs.table, batch, schema=batch.schema)
        ensure_indexes(table)
    elif (docs.table in PERSONAL and replaced) or model_spec_of(table) != embedder.spec:
        table = _rewrite(db, table, batch, gone)
        result.rewritten = True
    else:
        if batch.num_rows:
            table.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(batch)
        if gone:
            _delete(table, gone)
        ensure_indexes(table)
        if batch.num_rows or gone:
            with _quiet_cleanup():
                table.optimize(cleanup_older_than=KEEP_VERSIONS)
    result.rows = table.count_rows()
    result.version = table.version
    result.seconds = time.perf_counter() - started
    return result


def _rewrite(db: lancedb.DBConnection, table, batch: pa.Table, gone: list[str]):
    """The table anew from its current rows and the new batch; old versions and their files removed."""
    drop = set(gone) | set(batch.column("id").to_pylist())
    current = table.to_arrow()
    keep = current.filter(pc.invert(pc.is_in(current.column("id"), pa.array(sorted(drop)))))
    rows = pa.concat_tables([keep.select(batch.schema.names).cast(batch.schema), batch])
    table = db.create_table(table.name, rows, schema=batch.schema, mode="overwrite")
    ensure_indexes(table, replace=True)
    forget_old_versions(table)
    return table


def sync(vectors_dir: Path, documents: dict[str, Documents], embedder: Embedder) -> dict[str, SyncResult]:
    db = connect(vectors_dir)
    return {name: sync_table(db, documents[name], embedder) for name in TABLES if name in documents}


def versions(vectors_dir: Path) -> dict[str, int]:
    """The current version of each table (0: absent); a change of any is a change of the index."""
    if not vectors_dir.exists():
        return dict.fromkeys(TABLES, 0)
    db = connect(vectors_dir)
    names = table_names(db)
    return {name: (db.open_table(name).version if name in names else 0) for name in TABLES}
