"""The search index's settings as a Dagster resource (bound to the environment by the code location)."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from neuroerp.search.config import DEFAULT_MODEL, DEFAULT_TTL_S, SearchSettings


class SearchIndex(dg.ConfigurableResource):
    """The LanceDB tables under NEUROERP_HOME/vectors/ and the model that fills them."""

    home: str = Field(description="Data folder of the service (NEUROERP_HOME).")
    model: str = Field(
        default=DEFAULT_MODEL,
        description="Sentence-transformers model: the packaged default, or a local model folder "
        "(NEUROERP_SEARCH_MODEL). A change re-embeds every row.",
    )
    device: str = Field(default="auto", description="auto (CUDA where present), cpu, cuda, cuda:1, ...")
    batch_size: int = Field(default=0, description="Texts per forward pass; 0 sizes it for the device.")
    cache_ttl_s: int = Field(default=DEFAULT_TTL_S, description="How long a cached answer lives (seconds).")
    precision: str = Field(
        default="auto",
        description="Number format of the model's weights: auto (bfloat16 on a CPU with native bfloat16, "
        "else float32), float32, bfloat16 (NEUROERP_SEARCH_PRECISION).",
    )

    @property
    def settings(self) -> SearchSettings:
        return SearchSettings(
            home=Path(self.home), model=self.model, device=self.device, batch_size=self.batch_size,
            cache_ttl_s=self.cache_ttl_s, precision=self.precision,
        )  # fmt: skip
