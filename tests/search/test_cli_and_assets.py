"""`neuroerp search` and the Dagster assets that keep the index, on a copy of the demo home."""

from __future__ import annotations

import dagster as dg
from click.testing import CliRunner

from assets.resources import Warehouse
from assets.search.index import FORGOTTEN, IN_SYNC, search_index
from assets.search.resources import SearchIndex
from pipelines.cli import main


def test_the_search_command_prints_ranked_hits_with_reasons_and_stats(home, monkeypatch):
    monkeypatch.setenv("NEUROERP_HOME", str(home.settings.home))
    monkeypatch.setenv("COLUMNS", "200")  # the table's reasons on one line
    runner = CliRunner()
    result = runner.invoke(main, ["search", "Kalkammonsalpeter", "--kind", "article", "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert "Kalkammonsalpeter" in result.output and "words #1" in result.output and "hybrid search" in result.output
    again = runner.invoke(main, ["search", "kalkammonsalpeter", "--kind", "article", "--limit", "5"])
    assert "cache" in again.output
    as_json = runner.invoke(main, ["search", "Hafer", "--json", "--limit", "1", "--mode", "text"])
    assert as_json.exit_code == 0 and '"why"' in as_json.output
    stats = runner.invoke(main, ["search", "--stats"])
    assert stats.exit_code == 0 and "33.3%" in stats.output and "customers" in stats.output, stats.output  # 1 of 3
    empty = runner.invoke(main, ["search", "  "])
    assert empty.exit_code == 2 and "empty query" in empty.output
    assert runner.invoke(main, ["search"]).exit_code == 2


def test_the_search_command_says_what_to_do_without_an_index(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROERP_HOME", str(tmp_path))
    result = CliRunner().invoke(main, ["search", "Hafer"])
    assert result.exit_code == 1 and "materialize --select group:search" in result.output


def test_the_assets_sync_and_report_counts_cache_statistics_and_checks(home):
    with home.connect() as conn:
        conn.execute(
            "update raw.articles set name = name || ' (neu)' where article_id = (select min(article_id) from raw.articles)"
        )
    result = dg.materialize(
        [search_index],
        resources={
            "warehouse": Warehouse(home=str(home.settings.home)),
            "search": SearchIndex(home=str(home.settings.home)),
        },
    )
    assert result.success
    metadata = {
        e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()
    }
    articles, customers = metadata["search/articles"], metadata["search/customers"]
    assert (articles["embedded"].value, articles["changed"].value, customers["embedded"].value) == (1, 1, 0)
    assert articles["model"].value.startswith("all-MiniLM-L6-v2@") and customers["cache/lookups_total"].value == 0
    checks = {(c.asset_key.to_user_string(), c.check_name): c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {("search/articles", IN_SYNC): True, ("search/customers", IN_SYNC): True,
                      ("search/customers", FORGOTTEN): True}  # fmt: skip
