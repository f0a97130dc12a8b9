"""The search index: LanceDB tables `articles` and `customers` in sync with the warehouse."""

import dagster as dg

from assets.freshness import EVERY_15_MINUTES
from assets.resources import Warehouse
from assets.run_order import run_order_tags
from assets.search.resources import SearchIndex
from neuroerp.search import index
from neuroerp.search.cache import QueryCache
from neuroerp.search.config import ARTICLES, CUSTOMERS, SearchSettings
from neuroerp.search.documents import read_documents
from neuroerp.search.service import SyncReport, sync_documents

KEYS = {ARTICLES: dg.AssetKey(["search", ARTICLES]), CUSTOMERS: dg.AssetKey(["search", CUSTOMERS])}
OWNERS = ["team:analytics"]
IN_SYNC = "index_matches_warehouse"
FORGOTTEN = "no_erased_customer_indexed"


def _spec(table: str, description: str, deps: list[str]) -> dg.AssetSpec:
    return dg.AssetSpec(
        KEYS[table],
        description=description,
        deps=[dg.AssetKey(d.split("/")) for d in deps],
        group_name="search",
        kinds={"lancedb", "python"},
        owners=OWNERS,
        freshness_policy=EVERY_15_MINUTES,
        metadata={"path": f"NEUROERP_HOME/vectors/{table}.lance"},
    )


@dg.multi_asset(
    specs=[
        _spec(
            ARTICLES,
            "Every current article embedded for semantic search, with full-text indexes (German words and "
            "trigrams): name, description, category, numbers, formulation, nutrients, precursor substance.",
            ["staging/articles", "reference/bvl_products"],
        ),
        _spec(
            CUSTOMERS,
            "Every current customer embedded for semantic search: name, type, number, place, district, Land. "
            "Customers erased or restricted under the GDPR are left out and physically removed.",
            ["staging/customers", "staging/gdpr_requests"],
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            IN_SYNC,
            asset=KEYS[t],
            blocking=True,
            description="The index holds exactly the warehouse's current rows, each embedded by the configured model.",
        )  # fmt: skip
        for t in (ARTICLES, CUSTOMERS)
    ]
    + [
        dg.AssetCheckSpec(
            FORGOTTEN,
            asset=KEYS[CUSTOMERS],
            blocking=True,
            description="No customer with a completed erasure or restriction request is in the index, "
            "and no cached answer predates the index's current state.",
        )  # fmt: skip
    ],
    # it only reads the warehouse (read-only, briefly): its own pool keeps syncs of the index one at a
    # time without holding the warehouse's writers back while the model embeds
    pool="lancedb_vectors",
    op_tags=run_order_tags("search.index"),
    can_subset=False,
)
def search_index(context: dg.AssetExecutionContext, warehouse: Warehouse, search: SearchIndex):
    """Embed what changed since the last run (content hash per row; a model change re-embeds all),
    delete what left the warehouse, and drop the query cache's answers of the old index."""
    settings = search.settings
    with warehouse.connect(read_only=True) as conn:  # read, then let go of the warehouse before the model works
        documents = read_documents(conn)
    report = sync_documents(documents, settings)
    for table, result in report.results.items():
        if result.duplicates:
            context.log.warning(f"{table}: {len(result.duplicates)} ids came twice; the latest row of each was kept")
        context.log.info(
            f"{table}: {result.embedded} embedded ({result.inserted} new, {result.changed - result.reused} changed, "
            f"{result.model_changed} for the model), {result.reused} changed with the same text (vector kept), "
            f"{result.deleted} deleted, {result.unchanged} unchanged"
        )
    held = {t: index.indexed_state(index.open_table(index.connect(settings.vectors_dir), t)) for t in KEYS}
    for table, result in report.results.items():
        docs = documents[table]
        wanted, have = set(docs.rows["id"].to_list()), set(held[table]["id"].to_list())
        stale_models = held[table].filter(held[table]["model"] != report.model_id).height
        checks = [
            dg.AssetCheckResult(
                asset_key=KEYS[table],
                check_name=IN_SYNC,
                passed=wanted == have and stale_models == 0,
                metadata={"missing": len(wanted - have), "extra": len(have - wanted), "other_model": stale_models},
            )
        ]
        if table == CUSTOMERS:
            leaked = len(have & set(docs.withheld_ids))
            checks.append(
                dg.AssetCheckResult(
                    asset_key=KEYS[table],
                    check_name=FORGOTTEN,
                    passed=leaked == 0 and report.cache_total.entries == _entries_of_state(settings, report),
                    metadata={"erased_in_index": leaked, "withheld": docs.withheld},
                )
            )
        yield dg.MaterializeResult(asset_key=KEYS[table], metadata=_metadata(result, report), check_results=checks)


def _entries_of_state(settings: SearchSettings, report: SyncReport) -> int:
    with QueryCache(settings.cache_path, settings.cache_ttl_s) as cache:
        return cache.entries_of(report.state)


def _metadata(result: index.SyncResult, report: SyncReport) -> dict:
    rows_per_s = result.embedded / result.seconds_embed if result.seconds_embed > 0 else None
    total, since = report.cache_total, report.cache_since
    metadata = {
        "dagster/row_count": result.rows,
        "embedded": result.embedded,
        "inserted": result.inserted,
        "changed": result.changed,
        "vectors_kept": result.reused,
        "model_changed": result.model_changed,
        "deleted": result.deleted,
        "unchanged": result.unchanged,
        "duplicate_ids": len(result.duplicates),
        "withheld_gdpr": result.withheld,
        "rewritten": result.rewritten,
        "table_version": result.version,
        "model": report.model_id,
        "device": report.device,
        "batch_size": report.batch_size,
        "precision": report.precision,
        "embed_s": round(result.seconds_embed, 3),
        "sync_s": round(result.seconds, 3),
        "cache/hit_rate_since_last_run": since.hit_rate,
        "cache/lookups_since_last_run": since.lookups,
        "cache/hit_rate_total": total.hit_rate,
        "cache/lookups_total": total.lookups,
        "cache/hits_total": total.hits,
        "cache/misses_total": total.misses,
        "cache/expired_total": total.expired,
        "cache/entries": total.entries,
        "cache/purged_by_this_run": report.purged,
    }
    if rows_per_s is not None:
        metadata["embed_rows_per_s"] = round(rows_per_s, 1)
    if result.recreated:
        metadata["recreated"] = result.recreated
    if result.duplicates:
        metadata["duplicate_id_sample"] = dg.MetadataValue.json(result.duplicates[:20])
    return {k: v for k, v in metadata.items() if v is not None}
