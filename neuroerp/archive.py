"""The report archive under NEUROERP_HOME/reports: folders that are never overwritten and an
append-only manifest that makes any later change visible.

    reports/<kind>/<tenant>/<UTC timestamp>/<file>      one folder per run, created exclusively
    reports/manifest.jsonl                              one JSON line per file: path (relative to
                                                        reports/), sha256, bytes, kind, created_at

Every report writer (the purchasing export, the compliance report) goes through `archive_files`;
`verify_archive` recomputes every listed file's SHA-256 and names each one that was changed or
removed, and each file in a report folder that the manifest does not list.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = "manifest.jsonl"
LOCK = ".manifest.lock"


@dataclass(frozen=True)
class ArchivedFile:
    path: Path
    sha256: str
    bytes: int


@dataclass
class Verification:
    """What `verify_archive` found: files listed, and every file changed, removed or not listed."""

    checked: int = 0
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)  # manifest lines that are no entry

    @property
    def ok(self) -> bool:
        return not (self.changed or self.removed or self.unlisted or self.malformed)


def stamp(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def new_folder(reports_root: Path, kind: str, tenant: str, now: dt.datetime) -> Path:
    """A folder that did not exist before (reports are never overwritten): the run's UTC timestamp,
    with -1, -2, ... when a run in the same second took it."""
    base = Path(reports_root) / kind / tenant
    name = stamp(now)
    for n in range(1000):
        folder = base / (name if n == 0 else f"{name}-{n}")
        try:
            folder.mkdir(parents=True, exist_ok=False)
            return folder
        except FileExistsError:
            continue
    raise RuntimeError(f"no free report folder under {base} for {name}")


@contextmanager
def _manifest_lock(reports_root: Path) -> Iterator[None]:
    with (reports_root / LOCK).open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def archive_files(
    reports_root: Path, folder: Path, files: dict[str, bytes], kind: str, now: dt.datetime
) -> list[ArchivedFile]:
    """Write each file into `folder` (refusing to replace one), read-only, and append it with its
    SHA-256 to the manifest under one lock, so two writers never interleave lines."""
    reports_root = Path(reports_root)
    out = []
    for name, data in files.items():
        path = folder / name
        with path.open("xb") as fh:
            fh.write(data)
        os.chmod(path, 0o444)
        out.append(ArchivedFile(path, hashlib.sha256(data).hexdigest(), len(data)))
    created = now.astimezone(dt.UTC).isoformat()
    lines = "".join(
        json.dumps(
            {"path": f.path.relative_to(reports_root).as_posix(), "sha256": f.sha256, "bytes": f.bytes,
             "kind": kind, "created_at": created},
            ensure_ascii=False,
        ) + "\n"
        for f in out
    )  # fmt: skip
    with _manifest_lock(reports_root), (reports_root / MANIFEST).open("a", encoding="utf-8") as fh:
        fh.write(lines)
        fh.flush()
        os.fsync(fh.fileno())
    return out


def manifest_entries(reports_root: Path) -> list[dict]:
    path = Path(reports_root) / MANIFEST
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def verify_archive(reports_root: Path) -> Verification:
    """Every file the manifest lists, hashed again; every file in a report folder, looked up."""
    reports_root = Path(reports_root)
    result = Verification()
    listed: dict[str, str] = {}
    path = reports_root / MANIFEST
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            listed[entry["path"]] = entry["sha256"]
        except (ValueError, KeyError, TypeError):
            result.malformed.append(f"{MANIFEST} line {number}")
    for relative, digest in listed.items():
        result.checked += 1
        file = reports_root / relative
        if not file.is_file():
            result.removed.append(relative)
        elif hashlib.sha256(file.read_bytes()).hexdigest() != digest:
            result.changed.append(relative)
    for file in sorted(reports_root.rglob("*")):
        relative = file.relative_to(reports_root).as_posix()
        if file.is_file() and "/" in relative and relative not in listed:
            result.unlisted.append(relative)
    return result
