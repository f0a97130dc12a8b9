"""The Dagster instance's configuration neuroerp writes: the warehouse pool, run monitoring and a
run queue that starts the outbox sensor's refreshes within a second; earlier versions of the file
are replaced, a file someone edited is kept."""

from __future__ import annotations

import dagster as dg

from pipelines.instance import DAGSTER_YAML, EARLIER_YAMLS, write_config


def test_a_new_home_gets_a_config_the_instance_loads_with_a_one_second_run_queue(tmp_path, monkeypatch):
    write_config(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.run_coordinator.dequeue_interval_seconds == 1
        assert instance.run_monitoring_enabled


def test_every_earlier_version_is_replaced_and_an_edited_one_kept(tmp_path):
    for earlier in EARLIER_YAMLS:
        (tmp_path / "dagster.yaml").write_text(earlier, encoding="utf-8")
        write_config(tmp_path)
        assert (tmp_path / "dagster.yaml").read_text(encoding="utf-8") == DAGSTER_YAML
    edited = DAGSTER_YAML.replace("dequeue_interval_seconds: 1", "dequeue_interval_seconds: 3")
    (tmp_path / "dagster.yaml").write_text(edited, encoding="utf-8")
    write_config(tmp_path)
    assert (tmp_path / "dagster.yaml").read_text(encoding="utf-8") == edited
