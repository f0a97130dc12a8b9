"""The officers' decision ledger: append-only, hash-chained, outside the warehouse.

An officer's decision on a compliance case (acknowledged, resolved, dismissed, with name and note)
cannot be re-derived from the ERP, so it does not live in the rebuildable warehouse but in
`NEUROERP_HOME/ledger/case_decisions.jsonl`; each run mirrors it into `compliance.case_decisions`.

Each line is one decision as JSON. `seq` counts from 1; `prev_hash` is the previous entry's `hash`
(64 zeros for the first); `hash` is the SHA-256 of the entry's canonical JSON without `hash`. So
an edited entry no longer matches its hash, a removed, inserted or moved one breaks `seq` and the
chain, and `case_decisions.head.json` (entries and last hash, rewritten atomically after each
append) reveals entries cut from the end. A writer holds an exclusive lock on `ledger.lock` for its
whole read-verify-append cycle; readers hold a shared one, so nobody sees half an entry.

What the chain cannot do without a secret: stop someone who rewrites the whole file and its head
consistently. `neuroerp case verify` therefore also compares the ledger with the warehouse's
mirror of the last run, and the head hash can be copied elsewhere (a report, a ticket) to anchor it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

FILE = "case_decisions.jsonl"
HEAD = "case_decisions.head.json"
LOCK = "ledger.lock"
GENESIS = "0" * 64
DECISION_STATUSES = ("acknowledged", "resolved", "dismissed")
FIELDS = (
    "seq", "decision_id", "case_id", "tenant_id", "area", "rule_id", "subject_type", "subject_id", "status",
    "decided_by", "decided_at", "note", "seen_evaluated_at", "covered", "prev_hash", "hash",
)  # fmt: skip


class LedgerError(RuntimeError):
    """The ledger cannot be read or fails verification; nothing was written."""


def entry_hash(entry: dict) -> str:
    """SHA-256 of the entry's canonical JSON, without its own `hash`."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CaseKey:
    """What names a case: its id and the rule and subject (in a tenant and area) it stands for."""

    case_id: str
    tenant_id: str
    area: str
    rule_id: str
    subject_type: str
    subject_id: str


@dataclass(frozen=True, kw_only=True)
class Decision(CaseKey):
    """One officer's decision on a case, as the ledger holds it (with the case's key, so the
    ledger reads on its own, without the warehouse)."""

    seq: int
    decision_id: str
    status: str
    decided_by: str
    decided_at: dt.datetime
    note: str
    seen_evaluated_at: dt.datetime  # the evaluation the officer's view of the case stood for
    covered: frozenset[str]  # the violations the officer saw behind the case (the decision covers them)
    prev_hash: str
    hash: str

    @classmethod
    def from_entry(cls, entry: dict) -> Decision:
        return cls(
            seq=int(entry["seq"]),
            decision_id=str(entry["decision_id"]),
            case_id=str(entry["case_id"]),
            tenant_id=str(entry["tenant_id"]),
            area=str(entry["area"]),
            rule_id=str(entry["rule_id"]),
            subject_type=str(entry["subject_type"]),
            subject_id=str(entry["subject_id"]),
            status=str(entry["status"]),
            decided_by=str(entry["decided_by"]),
            decided_at=dt.datetime.fromisoformat(entry["decided_at"]),
            note=str(entry["note"]),
            seen_evaluated_at=dt.datetime.fromisoformat(entry["seen_evaluated_at"]),
            covered=frozenset(entry["covered"]),
            prev_hash=str(entry["prev_hash"]),
            hash=str(entry["hash"]),
        )


@dataclass
class Verification:
    """What `verify` found: every entry, the leading ones that are intact, and each problem."""

    entries: list[dict] = field(default_factory=list)  # every readable entry, in file order
    intact: int = 0  # how many leading entries verify (their decisions are the ones applied)
    problems: list[str] = field(default_factory=list)
    head_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return not self.problems

    def decisions(self) -> list[Decision]:
        """The decisions of the intact leading entries: a decision not provably intact closes nothing."""
        return [Decision.from_entry(e) for e in self.entries[: self.intact]]


class DecisionLedger:
    """The ledger folder (`NEUROERP_HOME/ledger`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / FILE
        self.head_path = self.folder / HEAD

    @contextlib.contextmanager
    def locked(self, exclusive: bool = True) -> Iterator[DecisionLedger]:
        """Exclusive (writers) or shared (readers) access across processes."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / LOCK, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield self
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read_head(self) -> dict | None:
        if not self.head_path.exists():
            return None
        try:
            head = json.loads(self.head_path.read_text(encoding="utf-8"))
            return {"entries": int(head["entries"]), "hash": str(head["hash"])}
        except (ValueError, KeyError, TypeError):
            return {"entries": -1, "hash": "unreadable"}

    def verify(self) -> Verification:
        """Check every entry, the chain and the head (the caller holds a lock)."""
        result = Verification()
        if not self.path.exists():
            head = self._read_head()
            if head is not None and head["entries"] != 0:
                result.problems.append(
                    f"{self.path} is missing but {self.head_path.name} records {head['entries']} entries"
                )
            return result
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            result.problems.append(f"{self.path}: the last line is incomplete (an interrupted write, or an edit)")
        previous, broken = GENESIS, False
        for number, raw in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            where = f"{self.path.name} line {number}"
            try:
                entry = json.loads(raw)
                if not isinstance(entry, dict) or set(entry) != set(FIELDS):
                    raise ValueError(f"expected the fields {', '.join(FIELDS)}")
                Decision.from_entry(entry)
            except (ValueError, KeyError, TypeError) as exc:
                result.problems.append(f"{where}: unreadable entry ({exc})")
                broken = True
                continue
            problems = []
            if entry["seq"] != number:
                problems.append(f"{where} holds seq {entry['seq']}: an entry was removed, inserted or moved before it")
            if entry_hash(entry) != entry["hash"]:
                problems.append(f"{where} (seq {entry['seq']}, decision {entry['decision_id']}): its content "
                                "does not match its hash: the entry was edited")  # fmt: skip
            if entry["prev_hash"] != previous:
                problems.append(
                    f"{where} (seq {entry['seq']}) does not follow the entry before it: an entry was removed, "
                    "inserted or moved here"
                )
            result.problems += problems
            broken = broken or bool(problems)
            result.entries.append(entry)
            if not broken:
                result.intact += 1
            previous = entry["hash"]
        result.head_hash = previous
        head = self._read_head()
        count = len(result.entries)
        if head is None:
            if count:
                result.problems.append(f"{self.head_path} is missing: entries may have been cut from the end")
        elif (head["entries"], head["hash"]) != (count, previous):
            result.problems.append(
                f"{self.head_path.name} records {head['entries']} entries ending in {head['hash'][:12]}, the "
                f"ledger holds {count} ending in {previous[:12]}: entries were removed from its end (or "
                "written without neuroerp)"
            )
        return result

    def append(self, fields: dict, now: dt.datetime | None = None) -> Decision:
        """Append one decision (the caller holds the exclusive lock and has checked it).

        Refuses, writing nothing, when the ledger does not verify: a decision is not chained to
        entries nobody can vouch for."""
        check = self.verify()
        if not check.ok:
            raise LedgerError("the decision ledger fails verification, nothing written: " + "; ".join(check.problems))
        entry = {
            "seq": len(check.entries) + 1,
            "decision_id": uuid.uuid4().hex,
            **fields,
            "decided_at": (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(),
            "prev_hash": check.head_hash,
        }
        entry["covered"] = sorted(entry["covered"])
        entry["hash"] = entry_hash(entry)
        if set(entry) != set(FIELDS):
            raise ValueError(f"a decision has exactly the fields {FIELDS}, got {sorted(entry)}")
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self._write_head(entry["seq"], entry["hash"])
        return Decision.from_entry(entry)

    def _write_head(self, entries: int, last_hash: str) -> None:
        temporary = self.head_path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"entries": entries, "hash": last_hash}) + "\n", encoding="utf-8")
        with open(temporary, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(temporary, self.head_path)
        directory = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
