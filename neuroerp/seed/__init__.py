"""Deterministic, realistic demo data for any database that follows the ERP source contract."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuroerp.contract import TABLES
from neuroerp.seed.catalog import AsOfBeyondRegister
from neuroerp.seed.generator import Dataset, generate
from neuroerp.source.database import create_schema as create_source_schema
from neuroerp.source.database import create_source_engine, missing_tables, row_counts, truncate_all
from neuroerp.source.writer import write_tables


class SeedError(RuntimeError):
    """The target cannot be seeded as asked."""


@dataclass
class SeedResult:
    url: str
    rows: dict[str, int]
    manifest: dict[str, Any]
    manifest_path: Path | None
    seconds_generate: float
    seconds_write: float


def seed_source(
    url: str,
    *,
    scale: float = 0.01,
    seed: int = 42,
    as_of: dt.date | None = None,
    create_schema: bool = False,
    replace: bool = False,
    manifest_path: Path | None = None,
    on_stage: Callable[[str], None] | None = None,
    on_write: Callable[[int, int], None] | None = None,
) -> SeedResult:
    """Generate demo ERP data and write it into the source at url.

    The contract tables must exist (or pass create_schema) and be empty (or pass replace, which
    empties them first). `on_write(total_rows, rows_just_written)` reports write progress.
    """
    import time

    engine = create_source_engine(url)
    try:
        if create_schema:
            create_source_schema(engine)
        missing = missing_tables(engine)
        if missing:
            raise SeedError(f"the source lacks contract tables {missing}; pass --create-schema to create them")
        filled = {name: n for name, n in row_counts(engine).items() if n}
        if filled and not replace:
            raise SeedError(
                f"the source already holds data ({', '.join(f'{k}: {v}' for k, v in sorted(filled.items()))}); "
                "pass --replace to empty the contract tables first"
            )
        started = time.perf_counter()
        try:
            dataset: Dataset = generate(seed=seed, scale=scale, as_of=as_of, progress=on_stage)
        except AsOfBeyondRegister as exc:
            raise SeedError(f"{exc}; nothing written") from exc
        generated = time.perf_counter()
        if filled:
            truncate_all(engine)
        tables = [(spec, dataset.table(spec.name)) for spec in TABLES]
        total = sum(df.height for _, df in tables)
        if on_stage:
            on_stage(f"writing {total:,} rows")
        rows = write_tables(engine, tables, (lambda n: on_write(total, n)) if on_write else None)
        written = time.perf_counter()
    finally:
        engine.dispose()
    manifest = dataset.manifest()
    if manifest_path is not None:
        manifest_path.parent.mkdir(parents=True, exist_ok=True)
        manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    return SeedResult(url, rows, manifest, manifest_path, generated - started, written - generated)


__all__ = ["SeedError", "SeedResult", "generate", "seed_source"]
