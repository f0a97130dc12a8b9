"""Semantic and full-text search over the ERP's articles and customers (LanceDB under
NEUROERP_HOME/vectors/): documents and content hashes (`documents`), the offline model
(`embedding`), the incremental sync (`index`), hybrid search (`search`), the query cache
(`cache`), one sync and what the index holds (`service`), retrieval quality (`evaluation`)."""
