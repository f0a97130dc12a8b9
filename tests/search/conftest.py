"""Fixtures for the search tests: a demo warehouse with its index built once per session (the
model loads once, in `load_embedder`), and per-test copies that a test may change."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pytest

from neuroerp.project import project_models
from neuroerp.reference.warehouse import load_reference_tables
from neuroerp.search.config import SearchSettings
from neuroerp.search.documents import Documents, read_documents
from neuroerp.search.embedding import Embedder, load_embedder
from neuroerp.search.service import SyncReport, sync_documents
from neuroerp.seed import seed_source
from neuroerp.sqlmodels import build
from tests.conftest import AS_OF, SEED
from tests.ingest.conftest import ingest_all


@dataclass
class SearchHome:
    settings: SearchSettings
    source_url: str

    @property
    def warehouse(self) -> Path:
        return self.settings.home / "warehouse.duckdb"

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.warehouse))

    def documents(self) -> dict[str, Documents]:
        with self.connect() as conn:
            return read_documents(conn)

    def sync(self, **changes) -> SyncReport:
        return sync_documents(self.documents(), replace(self.settings, **changes))


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return load_embedder()


@pytest.fixture(scope="session")
def base_home(tmp_path_factory, embedder) -> tuple[SearchHome, SyncReport]:
    """The demo ERP (scale 0.01) ingested, staging and reference built, the index synced."""
    folder = tmp_path_factory.mktemp("search-home")
    url = f"sqlite:///{folder / 'erp.sqlite'}"
    seed_source(url, scale=0.01, seed=SEED, as_of=AS_OF, create_schema=True)
    with duckdb.connect(str(folder / "warehouse.duckdb")) as conn:
        ingest_all(url, conn)
        load_reference_tables(conn)
        for model in project_models():
            if model.schema == "staging":
                build(conn, model)
    home = SearchHome(SearchSettings(home=folder), url)
    return home, home.sync()


@pytest.fixture
def home(base_home, tmp_path) -> SearchHome:
    """A copy of the synced home that the test may change."""
    base, _ = base_home
    target = tmp_path / "home"
    shutil.copytree(base.settings.home, target)
    return SearchHome(replace(base.settings, home=target), f"sqlite:///{target / 'erp.sqlite'}")
