"""The quick start: `neuroerp demo` on a fresh data home, and `neuroerp materialize` exit codes."""

import dagster as dg
import duckdb
import sqlalchemy as sa
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.definitions import defs


def _env(tmp_path) -> dict[str, str]:
    home = tmp_path / "home"
    return {"NEUROERP_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "NEUROERP_SOURCE_URL": ""}


def test_definitions_load_and_every_asset_is_described():
    dg.Definitions.validate_loadable(defs)
    for spec in defs.resolve_all_asset_specs():
        assert spec.description, spec.key
        assert spec.kinds, spec.key


def test_demo_creates_the_embedded_source_and_materialises(tmp_path):
    env = _env(tmp_path)
    result = CliRunner().invoke(main, ["demo", "--scale", "0.01"], env=env)
    assert result.exit_code == 0, result.output
    home = tmp_path / "home"
    assert (home / "demo-erp.sqlite").exists()
    assert (home / "seed-manifest.json").exists()
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        rows = dict(conn.execute("SELECT table_name, row_count FROM ops.source_profile").fetchall())
    assert len(rows) == 27 and rows["sales_orders"] > 0
    # a second run reuses the source
    again = CliRunner().invoke(main, ["demo", "--scale", "0.01"], env=env)
    assert again.exit_code == 0, again.output
    assert "using the existing demo ERP" in again.output


def test_materialize_fails_when_the_source_breaks_the_contract(tmp_path):
    env = _env(tmp_path)
    assert CliRunner().invoke(main, ["demo", "--scale", "0.01"], env=env).exit_code == 0
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'home' / 'demo-erp.sqlite'}")
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE suppliers DROP COLUMN iban"))
    result = CliRunner().invoke(main, ["materialize"], env=env)
    assert result.exit_code == 1
    assert "follows_contract: FAILED" in result.output
    assert "erp_source_profile" in result.output


def test_materialize_rejects_an_empty_selection(tmp_path):
    result = CliRunner().invoke(main, ["materialize", "--select", "key:no_such_asset"], env=_env(tmp_path))
    assert result.exit_code != 0
    assert "matches no asset" in result.output
