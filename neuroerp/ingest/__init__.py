"""Incremental, validated copy of the ERP source into the DuckDB warehouse (`raw.*`)."""

from neuroerp.ingest.pipeline import IngestOptions, IngestStats, ingest_table
from neuroerp.ingest.readers import reader_for
from neuroerp.ingest.store import QUARANTINE, ensure_warehouse

__all__ = ["QUARANTINE", "IngestOptions", "IngestStats", "ensure_warehouse", "ingest_table", "reader_for"]
