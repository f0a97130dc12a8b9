"""The NeuroERP analytics code location: every asset, check, job, schedule and sensor."""

from __future__ import annotations

import dagster as dg

from assets.compliance.state import COMPLIANCE_STATE_ASSETS
from assets.ingest.raw_tables import RAW_ASSETS
from assets.reference.tables import reference_tables
from assets.source.profile import erp_source_profile
from assets.sql.models import load_sql_assets
from neuroerp.settings import apply_defaults
from pipelines.jobs import compliance_job, compliance_schedule, ingest_job, ingest_schedule
from pipelines.resources import ErpSource, Warehouse

apply_defaults()

defs = dg.Definitions(
    assets=[erp_source_profile, *RAW_ASSETS, reference_tables, *load_sql_assets(), *COMPLIANCE_STATE_ASSETS],
    jobs=[ingest_job, compliance_job],
    schedules=[ingest_schedule, compliance_schedule],
    resources={
        "erp_source": ErpSource(url=dg.EnvVar("NEUROERP_SOURCE_URL")),
        "warehouse": Warehouse(home=dg.EnvVar("NEUROERP_HOME")),
    },
    # one process per run: the DuckDB warehouse admits a single writing process
    executor=dg.in_process_executor,
)
