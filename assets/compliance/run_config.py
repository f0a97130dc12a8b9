"""What a compliance run judges, as run configuration: the day and any rule overrides.

Both end up in the config of `compliance/settings` (its `vars`), so Dagster records them with the
run; nothing is read from the environment at run time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import dagster as dg

SETTINGS_KEY = dg.AssetKey(["compliance", "settings"])
AS_OF_TAG = "neuroerp/as_of"


def settings_run_config(as_of: dt.date | None = None, overrides: Mapping[str, str] | None = None) -> dict:
    """Run config that sets the judged day and overrides values of compliance.settings."""
    config = {**(overrides or {})}
    if as_of is not None:
        config["as_of"] = as_of.isoformat()
    return {"ops": {SETTINGS_KEY.to_python_identifier(): {"config": config}}}


def tick_day_request(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """A scheduled run that judges the day of its tick (recorded in the run's config and tag)."""
    day = context.scheduled_execution_time.date()
    return dg.RunRequest(run_config=settings_run_config(as_of=day), tags={AS_OF_TAG: day.isoformat()})
