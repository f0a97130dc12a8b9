"""Deployment settings read from the environment, through the real CLI: the judged day
(NEUROERP_AS_OF, `--as-of` wins; the demo's use of it is in test_cli_demo.py) and a newer BVL register export (NEUROERP_BVL_REGISTER).

Bad inputs tried: a German-style date in NEUROERP_AS_OF (refused by the CLI), an export that lacks the register's columns (refused, naming the file)."""

import datetime as dt

import duckdb
from click.testing import CliRunner

from pipelines.cli import main

API_EXPORT = (
    "kennr,mittelname,formulierung_art,zul_erstmalig_am,zul_ende\n"
    "004329-00,DOMARK 10 EC,EC,2006-06-18T22:00:00Z,2027-12-30T23:00:00Z\n"
    "999999-00,Neues Mittel,SC,2026-10-31T23:00:00Z,2031-06-29T22:00:00Z\n"
    "999998-00,Ohne Ende,WG,2026-01-01T23:00:00Z,\n"
)


def _env(tmp_path, **extra) -> dict[str, str]:
    home = tmp_path / "home"
    return {"NEUROERP_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "NEUROERP_SOURCE_URL": "", **extra}


def _query(tmp_path, sql: str) -> list[tuple]:
    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_the_judged_day_comes_from_the_environment_and_the_option_wins(tmp_path):
    env = _env(tmp_path, NEUROERP_AS_OF="2026-10-01")
    settings = ["materialize", "--select", "key:compliance/settings"]
    assert CliRunner().invoke(main, settings, env=env).exit_code == 0
    assert _query(tmp_path, "SELECT as_of FROM compliance.settings") == [(dt.date(2026, 10, 1),)]
    again = CliRunner().invoke(main, [*settings, "--as-of", "2026-09-15"], env=env)
    assert again.exit_code == 0, again.output
    assert _query(tmp_path, "SELECT as_of FROM compliance.settings") == [(dt.date(2026, 9, 15),)]
    bad = CliRunner().invoke(main, settings, env=env | {"NEUROERP_AS_OF": "1.10.2026"})
    assert bad.exit_code == 2 and "'1.10.2026' does not match the format '%Y-%m-%d'" in bad.output


def test_a_newer_bvl_export_replaces_the_packaged_register(tmp_path):
    export = tmp_path / "bvl_mittel.csv"
    export.write_text(API_EXPORT, encoding="utf-8")
    env = _env(tmp_path, NEUROERP_BVL_REGISTER=str(export))
    result = CliRunner().invoke(main, ["materialize", "--select", "group:reference"], env=env)
    assert result.exit_code == 0, result.output
    rows = _query(
        tmp_path, "SELECT kennr, name, first_authorised_on, authorised_until FROM reference.bvl_products ORDER BY kennr"
    )
    assert rows == [
        ("004329-00", "DOMARK 10 EC", dt.date(2006, 6, 19), dt.date(2027, 12, 31)),  # UTC instants of German midnight
        ("999998-00", "Ohne Ende", dt.date(2026, 1, 2), None),
        ("999999-00", "Neues Mittel", dt.date(2026, 11, 1), dt.date(2031, 6, 30)),
    ]


def test_an_export_without_the_register_columns_is_refused_by_name(tmp_path):
    export = tmp_path / "not_bvl.csv"
    export.write_text("kennr,produkt\n004329-00,DOMARK\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["materialize", "--select", "group:reference"], env=_env(tmp_path, NEUROERP_BVL_REGISTER=str(export))
    )
    assert result.exit_code == 1
    assert "not_bvl.csv: not a BVL register export, it lacks columns ['authorised_until', 'name']" in result.output
