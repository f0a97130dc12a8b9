"""The payment ledger: which invoice went into which payment run, so no run pays an invoice twice.

It lives under `NEUROERP_HOME/payments/ledger.jsonl`, outside the warehouse: the warehouse is
rebuilt from the ERP, but a payment file handed to the bank cannot be re-derived from it (the ERP
marks an invoice paid only once the bank statement is booked, days later). Append-only JSON lines:
an `item` per included invoice, a `void` when a run was not submitted and its invoices may be paid
again. Writers hold an exclusive lock on `ledger.lock` for the whole read-decide-write cycle.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path


@dataclass(frozen=True)
class LedgerItem:
    run_id: str
    tenant_id: str
    invoice_id: str
    supplier_id: str
    amount: Decimal
    skonto_amount: Decimal
    execution_date: dt.date
    end_to_end_id: str
    file: str
    created_at: dt.datetime

    def to_json(self) -> dict:
        d = asdict(self)
        d.update(
            kind="item",
            amount=str(self.amount),
            skonto_amount=str(self.skonto_amount),
            execution_date=self.execution_date.isoformat(),
            created_at=self.created_at.isoformat(),
        )
        return d

    @classmethod
    def from_json(cls, d: dict) -> LedgerItem:
        return cls(
            run_id=d["run_id"],
            tenant_id=d["tenant_id"],
            invoice_id=d["invoice_id"],
            supplier_id=d["supplier_id"],
            amount=Decimal(d["amount"]),
            skonto_amount=Decimal(d["skonto_amount"]),
            execution_date=dt.date.fromisoformat(d["execution_date"]),
            end_to_end_id=d["end_to_end_id"],
            file=d["file"],
            created_at=dt.datetime.fromisoformat(d["created_at"]),
        )


class PaymentLedger:
    def __init__(self, home: Path) -> None:
        self.folder = Path(home) / "payments"
        self.path = self.folder / "ledger.jsonl"

    @contextlib.contextmanager
    def locked(self) -> Iterator[PaymentLedger]:
        """Exclusive access across processes (the sensor's runs, the UI, the CLI)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "ledger.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield self
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _records(self) -> list[dict]:
        if not self.path.exists():
            return []
        records = []
        with open(self.path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{self.path}:{number}: unreadable ledger line ({exc})") from None
        return records

    def items(self) -> list[LedgerItem]:
        """Every invoice included in a payment run that was not voided."""
        records = self._records()
        voided = {r["run_id"] for r in records if r.get("kind") == "void"}
        return [LedgerItem.from_json(r) for r in records if r.get("kind") == "item" and r["run_id"] not in voided]

    def _append(self, records: Iterable[dict]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            for record in records:
                f.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def record(self, items: Iterable[LedgerItem]) -> None:
        self._append(item.to_json() for item in items)

    def void(self, run_id: str, by: str, reason: str, now: dt.datetime | None = None) -> int:
        """Mark a run as not submitted to the bank: its invoices may be paid by a later run.
        Returns how many invoices it frees."""
        if not by.strip() or not reason.strip():
            raise ValueError("voiding a payment run needs a name and a reason")
        freed = [i for i in self.items() if i.run_id == run_id]
        if not freed:
            raise ValueError(f"no active payment run {run_id!r} in {self.path}")
        when = (now or dt.datetime.now(dt.UTC)).isoformat()
        self._append([{"kind": "void", "run_id": run_id, "by": by, "reason": reason, "at": when}])
        return len(freed)
