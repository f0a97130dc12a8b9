"""The NeuroERP analytics code location: every asset, check, job and schedule under `assets/`,
every sensor under `sensors/`, bound to the deployment's resources."""

from __future__ import annotations

import warnings

import dagster as dg

import assets
import sensors
from neuroerp.settings import apply_defaults
from pipelines.resources import resources_from_env

apply_defaults()


def _load_package(package) -> dg.Definitions:
    """Everything a package's modules define at module level (Dagster's own loader)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=dg.PreviewWarning)  # the loader itself is marked preview
        return dg.load_definitions_from_package_module(package)


defs = dg.Definitions.merge(
    _load_package(assets),
    _load_package(sensors),
    dg.Definitions(
        resources=resources_from_env(),
        # one process per run: the DuckDB warehouse admits a single writing process
        executor=dg.in_process_executor,
    ),
)
