"""GDPR: a customer erased in the ERP is gone from the index, the query cache and every file under
vectors/ after the next run: searched for by name, and looked for in the bytes on disk.

Three ways the ERP erases: a completed erasure request (the row stays in the ERP), a hard delete,
and anonymisation in place (the row stays, its name replaced). Each goes through the real path:
the ERP (SQLite) changes, the ingest reads it, the sync runs. A grep that cannot see names in
these files would prove nothing, so each test also finds a customer who stays, on disk."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from neuroerp.contract import load_order
from neuroerp.ingest import IngestOptions, ingest_table, reader_for
from neuroerp.search import index
from neuroerp.search.cache import QueryCache
from neuroerp.search.config import CUSTOMERS
from neuroerp.search.service import open_searcher


def _on_disk(folder: Path, text: str) -> list[str]:
    """Files under the folder whose bytes contain the text (as UTF-8)."""
    needle = text.encode()
    return [str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def _ingest(home, *tables: str) -> None:
    reader = reader_for(home.source_url)
    with home.connect() as conn:
        for spec in load_order():
            if spec.name in tables:
                ingest_table(reader, conn, spec, IngestOptions())


def _two_customers(home) -> tuple[dict, dict]:
    """Two customers with names no one else has: one to erase, one who stays."""
    with home.connect() as conn:
        rows = conn.execute(
            "select customer_id, name, tenant_id from staging.customers where customer_type = 'private' "
            "and name in (select name from staging.customers group by name having count(*) = 1) "
            "and customer_id not in (select customer_id from staging.gdpr_requests) order by customer_no limit 2"
        ).fetchall()
    return [{"id": r[0], "name": r[1], "tenant": r[2]} for r in rows]


def _erase_in_erp(home, customer: dict, how: str) -> None:
    now = dt.datetime.now(dt.UTC).isoformat()
    with sqlite3.connect(home.source_url.removeprefix("sqlite:///")) as erp:
        if how == "erasure request":
            erp.execute(
                "insert into gdpr_requests values (?, ?, ?, 'erasure', ?, ?, 'completed', 0, ?)",
                [f"gdpr-{customer['id']}", customer["tenant"], customer["id"], now, now, now],
            )
        elif how == "hard delete":
            for table in ("consents", "customer_certificates", "gdpr_requests"):
                erp.execute(f"delete from {table} where customer_id = ?", [customer["id"]])
            erp.execute("delete from customers where customer_id = ?", [customer["id"]])
        else:  # anonymised in place
            erp.execute(
                "update customers set name = 'Gelöschter Kunde', email = null, phone = null, updated_at = ? "
                "where customer_id = ?",
                [now, customer["id"]],
            )


@pytest.mark.parametrize("how", ["erasure request", "hard delete", "anonymised"])
def test_an_erased_customer_is_gone_after_the_next_run(home, how):
    erased, stays = _two_customers(home)
    searcher = open_searcher(home.settings)
    before = searcher.search(erased["name"], kind="customer")  # answered and cached
    assert before.hits[0].id == erased["id"] and not before.cached
    assert searcher.search(erased["name"], kind="customer").cached
    vectors = home.settings.vectors_dir
    assert _on_disk(vectors, erased["name"]), "the check below could not see a name on disk"

    _erase_in_erp(home, erased, how)
    _ingest(home, "customers", "gdpr_requests", "consents", "customer_certificates")
    report = home.sync()

    result = report.results[CUSTOMERS]
    assert result.rewritten and result.embedded == (1 if how == "anonymised" else 0)
    assert report.purged >= 1  # the cached answer with the name went with the old index
    ids = set(index.indexed_state(index.open_table(index.connect(vectors), CUSTOMERS))["id"].to_list())
    assert (erased["id"] in ids) == (how == "anonymised") and stays["id"] in ids
    for mode in ("hybrid", "vector", "text"):
        after = searcher.search(erased["name"], mode=mode)
        assert not after.cached
        assert erased["name"] not in [h.name for h in after.hits], mode
    assert not _on_disk(vectors, erased["name"]), "the erased name is still in a file under vectors/"
    assert _on_disk(vectors, stays["name"])  # the grep sees names that stay
    with QueryCache(home.settings.cache_path) as cache:
        assert cache.entries_of(report.state) == cache.stats().entries  # no answer of an older index
    assert searcher.search(stays["name"], kind="customer").hits[0].id == stays["id"]


def test_a_restriction_of_processing_in_force_withholds_the_customer_too(home):
    erased, _ = _two_customers(home)
    with home.connect() as conn:
        conn.execute(
            "insert into raw.gdpr_requests select * replace ('restrict-1' as request_id, ? as customer_id, "
            "'restriction' as kind, 'completed' as status) from raw.gdpr_requests limit 1",
            [erased["id"]],
        )
    report = home.sync()
    assert report.results[CUSTOMERS].deleted == 1 and report.results[CUSTOMERS].withheld >= 1
    assert erased["name"] not in [h.name for h in open_searcher(home.settings).search(erased["name"]).hits]
