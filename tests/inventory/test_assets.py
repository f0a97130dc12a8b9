"""The purchasing assets in Dagster on the demo ERP: the daily job's assets materialise, the
backtest check reports WAPE per category, the proposals obey every gate, the export lands where
purchasing looks for it."""

import datetime as dt

import dagster as dg
import duckdb
import pytest

from assets.compliance.rules import compliance_models
from assets.compliance.run_config import settings_run_config
from assets.inventory.models import inventory_models
from assets.inventory.reorder import BACKTEST_CHECK, demand_forecast, purchasing_export, reorder_plan
from assets.resources import Warehouse
from assets.staging.models import staging_models
from neuroerp.seed import seed_source
from tests.conftest import AS_OF, SEED
from tests.ingest.conftest import ingest_all


@pytest.fixture(scope="module")
def materialised(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    url = f"sqlite:///{home / 'erp.sqlite'}"
    seed_source(url, scale=0.01, seed=SEED, as_of=AS_OF, create_schema=True)
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        ingest_all(url, conn)
    settings = next(a for a in compliance_models if a.key == dg.AssetKey(["compliance", "settings"]))
    result = dg.materialize(
        [*staging_models, settings, *inventory_models, demand_forecast, reorder_plan, purchasing_export],
        resources={"warehouse": Warehouse(home=str(home))},
        run_config=settings_run_config(as_of=AS_OF)
        | {
            "ops": {
                **settings_run_config(as_of=AS_OF)["ops"],
                "inventory__reorder_plan": {"config": {"service_level": 0.97, "review_period_days": 14}},
            }
        },
    )
    return home, result


def test_the_assets_materialise_and_every_check_passes_or_warns(materialised):
    _, result = materialised
    assert result.success
    failed = [
        e.asset_check_evaluation_data
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]
    assert not failed, failed


def test_backtest_check_reports_wape_by_category(materialised):
    _, result = materialised
    check = next(e for e in result.get_asset_check_evaluations() if e.check_name == BACKTEST_CHECK)
    assert check.severity == dg.AssetCheckSeverity.WARN
    wape = check.metadata["wape"].value
    assert {k.split("/")[1] for k in wape} >= {"psm", "fertilizer", "seed", "feed"}
    for entry in wape.values():
        assert entry["model"] in ("top_down_seasonal", "croston_sba", "seasonal_naive")
        assert entry["holdout_windows"] == 3
    worse = [k for k, v in wape.items() if v["wape_holdout"] is not None and v["wape_seasonal_naive"] is not None
             and v["wape_holdout"] > v["wape_seasonal_naive"]]  # fmt: skip
    assert check.passed == (not worse)
    assert check.metadata["categories_worse_than_seasonal_naive"].value == len(worse)


def test_demo_proposals_obey_every_gate(materialised):
    home, _ = materialised
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        # the run configuration is recorded with each row
        assert conn.execute(
            "SELECT DISTINCT service_level, review_period_days FROM inventory.reorder_plan"
        ).fetchall() == [(0.97, 14)]
        # every active article and warehouse that is stocked gets a row
        missing = conn.execute(
            """SELECT count(*) FROM staging.stock_levels s JOIN staging.articles a USING (article_id)
               ANTI JOIN inventory.reorder_plan p USING (article_id, warehouse_id) WHERE a.is_active"""
        ).fetchone()[0]
        assert missing == 0
        bad = conn.execute(
            """SELECT count(*) FROM inventory.reorder_proposals p JOIN inventory.reorder_inputs i
               USING (article_id, warehouse_id)
               WHERE NOT i.is_active OR i.is_deleted OR i.psm_sellable_until < p.expected_arrival
                  OR p.order_by < i.as_of OR p.reason NOT LIKE '%bestellen%'"""
        ).fetchone()[0]
        assert bad == 0
        statuses = dict(conn.execute("SELECT status, count(*) FROM inventory.reorder_plan GROUP BY 1").fetchall())
        assert statuses.get("order", 0) > 0 and statuses.get("excluded", 0) > 0
        precursors = conn.execute(
            "SELECT bool_and(reason LIKE '%Anhang%') FROM inventory.reorder_plan WHERE customer_statement_required"
            " AND status <> 'excluded'"
        ).fetchone()[0]
        assert precursors


def test_export_lands_under_reports_purchasing(materialised):
    home, result = materialised
    files = result.asset_materializations_for_node("inventory__purchasing_export")[0].metadata["files"].value
    assert set(files) == {"lh-nord", "lh-sued"}
    for tenant, path in files.items():
        folder = home / "reports" / "purchasing" / tenant
        assert path.startswith(str(folder)) and path.endswith("/bestellvorschlag.xlsx")
        stamp = path.split("/")[-2]
        assert dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")
    assert len((home / "reports" / "manifest.jsonl").read_text().splitlines()) == 2
