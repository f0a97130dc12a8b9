"""Seeding a real PostgreSQL and a real SQLite file through `seed_source` and the CLI."""

import datetime as dt
import json
import sqlite3
from decimal import Decimal

import polars as pl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from neuroerp.contract import TABLES
from neuroerp.seed import SeedError, seed_source
from neuroerp.source.database import create_source_engine, row_counts
from pipelines.cli import main
from tests.conftest import AS_OF, SEED


def _seed(url: str, **kw):
    return seed_source(url, scale=0.01, seed=SEED, as_of=AS_OF, create_schema=True, **kw)


def test_postgres_holds_exactly_the_generated_rows(pg_url, dataset):
    result = _seed(pg_url)
    counts = row_counts(create_source_engine(pg_url))
    assert counts == {spec.name: dataset.frames[spec.name].height for spec in TABLES}
    assert result.manifest["row_counts"] == counts
    assert result.manifest == dataset.manifest()


def test_postgres_values_round_trip(pg_url, dataset):
    _seed(pg_url)
    engine = create_source_engine(pg_url)
    with engine.connect() as conn:
        inv = conn.execute(
            sa.text("SELECT invoice_id, gross_amount, skonto_pct, posted_at, invoice_date FROM finance.invoices")
        ).all()
        event = conn.execute(
            sa.text("SELECT id::text, created_at, metadata FROM eventbus.outbox_events ORDER BY created_at LIMIT 1")
        ).one()
    generated = {r["invoice_id"]: r for r in dataset.table("invoices").iter_rows(named=True)}
    for invoice_id, gross, pct, posted, day in inv:
        g = generated[invoice_id]
        assert isinstance(gross, Decimal) and gross == Decimal(str(g["gross_amount"])).quantize(Decimal("0.01"))
        assert (pct is None) == (g["skonto_pct"] is None)
        assert posted == g["posted_at"] and posted.utcoffset() == dt.timedelta(0)
        assert day == g["invoice_date"]
    first = dataset.table("outbox_events").sort("created_at").row(0, named=True)
    assert event.id == first["id"]
    assert event.created_at.tzinfo is None and event.created_at == first["created_at"]
    assert event.metadata == (json.loads(first["metadata"]) if first["metadata"] else None)


def test_sqlite_holds_exactly_the_generated_rows(sqlite_url, dataset):
    _seed(sqlite_url)
    counts = row_counts(create_source_engine(sqlite_url))
    assert counts == {spec.name: dataset.frames[spec.name].height for spec in TABLES}


def test_sqlite_storage_forms(sqlite_url, dataset):
    _seed(sqlite_url)
    path = sa.engine.make_url(sqlite_url).database
    with sqlite3.connect(path) as conn:
        posted, amount, flag = conn.execute(
            "SELECT posted_at, gross_amount, c.is_professional FROM invoices i "
            "JOIN customers c ON c.customer_id = i.partner_id LIMIT 1"
        ).fetchone()
        created = conn.execute("SELECT created_at FROM outbox_events LIMIT 1").fetchone()[0]
    assert posted.endswith("+00:00") and "T" in posted
    assert isinstance(amount, float)
    assert flag in (0, 1)
    assert "+" not in created and len(created) == 26
    total = pl.read_database("SELECT sum(gross_amount) AS s FROM invoices", create_source_engine(sqlite_url))["s"][0]
    assert total == pytest.approx(dataset.table("invoices")["gross_amount"].sum(), abs=0.01)


def test_postgres_and_sqlite_get_the_same_data(pg_url, sqlite_url):
    a, b = _seed(pg_url), _seed(sqlite_url)
    assert a.rows == b.rows
    assert a.manifest["planted"] == b.manifest["planted"]
    query = "SELECT article_id, psm_reg_no FROM {} ORDER BY article_id"
    with create_source_engine(pg_url).connect() as pg, create_source_engine(sqlite_url).connect() as lite:
        assert (
            pg.execute(sa.text(query.format("inventory.articles"))).all()
            == lite.execute(sa.text(query.format("articles"))).all()
        )


def test_refuses_a_filled_source_unless_replace(sqlite_url):
    _seed(sqlite_url)
    with pytest.raises(SeedError, match="already holds data"):
        _seed(sqlite_url)
    again = _seed(sqlite_url, replace=True)
    assert row_counts(create_source_engine(sqlite_url)) == again.rows


def test_refuses_a_source_without_the_contract_tables(sqlite_url):
    with pytest.raises(SeedError, match="--create-schema"):
        seed_source(sqlite_url, scale=0.01)


def test_cli_seed_writes_data_and_manifest(tmp_path, pg_url):
    manifest = tmp_path / "manifest.json"
    result = CliRunner().invoke(
        main,
        [
            "seed",
            "--source-url",
            pg_url,
            "--scale",
            "0.01",
            "--seed",
            "3",
            "--as-of",
            "2026-06-30",
            "--create-schema",
            "--manifest",
            str(manifest),
        ],  # fmt: skip
        env={"NEUROERP_HOME": str(tmp_path / "home")},
    )
    assert result.exit_code == 0, result.output
    data = json.loads(manifest.read_text())
    assert data["seed"] == 3 and data["as_of"] == "2026-06-30"
    assert {p["rule"] for p in data["planted"]} >= {"PSM-001", "GOBD-002", "GDPR-001"}
    assert row_counts(create_source_engine(pg_url))["sales_orders"] == data["row_counts"]["sales_orders"]


def test_cli_seed_reports_a_clear_error(tmp_path, sqlite_url):
    result = CliRunner().invoke(main, ["seed", "--source-url", sqlite_url], env={"NEUROERP_HOME": str(tmp_path)})
    assert result.exit_code != 0
    assert "--create-schema" in result.output
