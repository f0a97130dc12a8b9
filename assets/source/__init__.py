"""The ERP source as the pipeline finds it: contract conformance and size."""
