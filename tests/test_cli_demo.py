"""The quick start: `neuroerp demo` on a fresh data home, and `neuroerp materialize` exit codes."""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
    env = _env(tmp_path) | {"NEUROERP_AS_OF": "2026-10-01"}  # a past day: generated and judged as of it
    result = CliRunner().invoke(main, ["demo", "--scale", "0.01"], env=env)
    assert result.exit_code == 0, result.output
    home = tmp_path / "home"
    assert (home / "demo-erp.sqlite").exists()
    assert json.loads((home / "seed-manifest.json").read_text())["as_of"] == "2026-10-01"
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        rows = dict(conn.execute("SELECT table_name, row_count FROM ops.source_profile").fetchall())
        assert conn.execute("SELECT as_of FROM compliance.settings").fetchall() == [(dt.date(2026, 10, 1),)]
    assert len(rows) == 27 and rows["sales_orders"] > 0
    # the officer report of every tenant, archived and listed (issue 10)
    assert len(list((home / "reports" / "compliance").glob("*/*/report.pdf"))) == 2
    assert "officer report lh-nord" in result.output
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
    # the cause comes first after the summary table: the blocking check, and what it found
    after_table = result.output.split("┘")[-1].strip().splitlines()
    assert after_table[0] == (
        "failed erp_source_profile: FailedCheck: follows_contract: purchasing.suppliers lacks columns iban"
    )
    assert "steps not run: a step they depend on failed" in result.output
    assert not any("Dagster" in line for line in after_table)  # the check once, not its wrapper again


def test_materialize_rejects_an_empty_selection(tmp_path):
    result = CliRunner().invoke(main, ["materialize", "--select", "key:no_such_asset"], env=_env(tmp_path))
    assert result.exit_code != 0
    assert "matches no asset" in result.output


def test_the_judged_day_and_overrides_are_run_configuration_recorded_with_the_run(tmp_path):
    env = _env(tmp_path)
    assert CliRunner().invoke(main, ["demo", "--scale", "0.01"], env=env).exit_code == 0
    result = CliRunner().invoke(
        main,
        ["materialize", "--select", "key:compliance/settings", "--as-of", "2026-11-20",
         "--rule", "eudr_application_date=2027-06-30"],
        env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    home = tmp_path / "home"
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        settings = conn.execute("SELECT as_of, eudr_application_date FROM compliance.settings").fetchone()
    assert [d.isoformat() for d in settings] == ["2026-11-20", "2027-06-30"]
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        (latest,) = instance.get_run_records(limit=1)
        run = latest.dagster_run
    assert run.job_name == "__ASSET_JOB"  # Dagster's own ad-hoc materialisation job, as from the UI
    assert run.run_config["ops"]["compliance__settings"]["config"] == {
        "as_of": "2026-11-20",
        "eudr_application_date": "2027-06-30",
    }
    assert run.tags["neuroerp/as_of"] == "2026-11-20"
    # overrides from the environment become run configuration too; a malformed --rule is refused
    env["NEUROERP_COMPLIANCE_PSM_SELLOUT_MONTHS"] = "3"
    again = CliRunner().invoke(main, ["materialize", "--select", "key:compliance/settings"], env=env)
    assert again.exit_code == 0, again.output
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT psm_sellout_months, as_of FROM compliance.settings").fetchone() == (
            3,
            dt.date.today(),
        )
    bad = CliRunner().invoke(
        main, ["materialize", "--select", "key:compliance/settings", "--rule", "nonsense"], env=env
    )
    assert bad.exit_code != 0 and "expected NAME=VALUE" in bad.output


def test_the_instance_limits_the_warehouse_pool_to_one_writer(tmp_path):
    env = _env(tmp_path)
    assert CliRunner().invoke(main, ["materialize", "--select", "group:reference"], env=env).exit_code == 0
    config = (tmp_path / "home" / "dagster" / "dagster.yaml").read_text()
    assert "default_limit: 1" in config
    with dg.DagsterInstance.from_config(str(tmp_path / "home" / "dagster")) as instance:
        info = instance.event_log_storage.get_concurrency_info("duckdb_warehouse")
        assert info.limit == 1 and not info.claimed_slots


def test_a_killed_cli_run_gives_its_pool_slot_back_to_the_next_run(tmp_path):
    """kill -9 while a step holds the warehouse slot: the next CLI run fails the orphan and goes on."""
    env = {**os.environ, **_env(tmp_path)}
    neuroerp = Path(sys.executable).parent / "neuroerp"
    assert subprocess.run([str(neuroerp), "demo", "--scale", "0.01"], env=env, capture_output=True).returncode == 0
    dagster_home = str(tmp_path / "home" / "dagster")
    victim = subprocess.Popen(
        [str(neuroerp), "materialize"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        with dg.DagsterInstance.from_config(dagster_home) as instance:
            deadline = time.monotonic() + 120
            while not instance.event_log_storage.get_concurrency_info("duckdb_warehouse").claimed_slots:
                assert victim.poll() is None and time.monotonic() < deadline, "the run never held the slot"
                time.sleep(0.05)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            (orphan,) = instance.get_run_records(limit=1)
            assert orphan.dagster_run.status == dg.DagsterRunStatus.STARTED
            assert instance.event_log_storage.get_concurrency_info("duckdb_warehouse").claimed_slots
    finally:
        victim.kill()
    rerun = subprocess.run(
        [str(neuroerp), "materialize", "--select", "group:reference"], env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert f"marked run {orphan.dagster_run.run_id} failed" in rerun.stderr.replace("\n", " ")
    with dg.DagsterInstance.from_config(dagster_home) as instance:
        assert instance.get_run_by_id(orphan.dagster_run.run_id).status == dg.DagsterRunStatus.FAILURE
        assert not instance.event_log_storage.get_concurrency_info("duckdb_warehouse").claimed_slots
