"""The ERP's tables in `raw.*`: one asset per contract table, the ingest job and its schedule."""
