"""The ingest as Dagster assets: metadata, checks, incremental runs, selections."""

import dagster as dg

from assets.ingest.raw_tables import raw_key, raw_tables
from assets.resources import ErpSource, Warehouse
from assets.source.profile import erp_source_profile
from neuroerp.contract import TABLES, table
from pipelines.definitions import defs


def _materialize(url: str, home, selection=None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [erp_source_profile, *raw_tables],
        resources={"erp_source": ErpSource(url=url), "warehouse": Warehouse(home=str(home))},
        selection=selection,
    )


def _metadata(result: dg.ExecuteInProcessResult, name: str) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == raw_key(table(name))]
    return event.materialization.metadata


def test_one_asset_per_contract_table_grouped_by_domain():
    keys = {spec.key for spec in defs.resolve_all_asset_specs()}
    for spec in TABLES:
        assert raw_key(spec) in keys
    group = defs.resolve_assets_def(raw_key(table("invoices"))).specs_by_key[raw_key(table("invoices"))].group_name
    assert group == "ingest_finance"
    assert defs.resolve_job_def("ingest_erp") is not None


def test_materialising_reports_what_moved(seeded_pg, tmp_path):
    first = _materialize(seeded_pg, tmp_path)
    assert first.success
    meta = _metadata(first, "sales_order_lines")
    assert meta["mode"].value == "full"
    assert meta["rows_read"].value == meta["rows_upserted"].value == meta["dagster/row_count"].value > 5000
    for name in ("rows_deleted", "rows_quarantined", "watermark", "duration_s"):
        assert name in meta
    checks = {(e.asset_key, e.check_name): e.passed for e in first.get_asset_check_evaluations()}
    assert all(passed for (key, name), passed in checks.items() if name == "rows_balance")
    assert len([k for k in checks if k[1] == "rows_balance"]) == len(TABLES)

    second = _materialize(seeded_pg, tmp_path)
    meta = _metadata(second, "sales_order_lines")
    assert meta["mode"].value == "incremental" and meta["rows_upserted"].value == 0


def test_a_group_can_be_materialised_alone(seeded_pg, tmp_path):
    result = _materialize(seeded_pg, tmp_path, selection=dg.AssetSelection.groups("ingest_crm"))
    assert result.success
    materialised = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialised == {raw_key(s) for s in TABLES if s.domain == "crm"}
