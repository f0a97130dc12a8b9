"""The SEPA payment run: the payments of the Skonto schedule due in the next N days, as a pain.001
credit transfer file for the bank, recorded in the payment ledger so no later run pays them again.

Format: pain.001.001.09 (ISO 20022 2019), the version the German banking industry (Deutsche
Kreditwirtschaft, DFÜ-Abkommen Anlage 3, data format 3.7 onwards) and the EPC SCT rulebook take
since November 2023; banks still accept 001.001.03 only for a transition. Written with `sepaxml`
(maintained, ships the ISO XSDs) and validated against the pain.001.001.09 schema shipped with it
(xmlschema) before anything is recorded. IBAN and BIC are checked with `schwifty`: a supplier with a
missing or invalid IBAN, an IBAN outside the SEPA zone or an invalid BIC is left out and listed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

import sepaxml
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from sepaxml import SepaTransfer

from neuroerp.finance.calendar import business_day_on_or_after
from neuroerp.finance.ledger import LedgerItem, PaymentLedger
from neuroerp.finance.money import to_cents

SCHEMA = "pain.001.001.09"
XSD = Path(sepaxml.__file__).parent / "schemas" / f"{SCHEMA}.xsd"
SEPA_TEXT = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")  # the SEPA (EPC) Latin character set


@dataclass(frozen=True)
class DebtorAccount:
    """The tenant's own account the payments leave from (deployment configuration)."""

    name: str
    iban: str
    bic: str

    def problems(self) -> list[str]:
        found = [f"IBAN {self.iban!r}: {r}" for r in [iban_problem(self.iban)] if r]
        if not self.bic:
            found.append("no BIC (the debtor agent must be named)")
        elif reason := bic_problem(self.bic):
            found.append(f"BIC {self.bic!r}: {reason}")
        if not self.name.strip():
            found.append("no account holder name")
        return found


@dataclass
class RunResult:
    tenant_id: str
    run_id: str
    folder: Path | None = None  # None: nothing to pay, no file
    included: list[LedgerItem] = field(default_factory=list)
    excluded: list[dict] = field(default_factory=list)  # {invoice_id, invoice_no, supplier_id, reason}

    @property
    def total(self) -> Decimal:
        return sum((i.amount for i in self.included), Decimal("0.00"))

    @property
    def file(self) -> Path | None:
        return self.folder / "pain.001.xml" if self.folder else None


def iban_problem(iban: str | None) -> str | None:
    if not iban or not iban.strip():
        return "no IBAN"
    try:
        parsed = IBAN(iban)
    except SchwiftyException as exc:
        return f"invalid IBAN ({exc})"
    if not parsed.in_sepa_zone:
        return f"IBAN of {parsed.country_code} is outside the SEPA zone"
    return None


def bic_problem(bic: str | None) -> str | None:
    if not bic:
        return None  # IBAN-only is allowed for SEPA credit transfers
    try:
        BIC(bic)
    except SchwiftyException as exc:
        return f"invalid BIC ({exc})"
    return None


def _text(value: str, limit: int) -> str:
    return SEPA_TEXT.sub("", value)[:limit].strip() or "NOTPROVIDED"


def validate(xml: bytes) -> None:
    """Raise xmlschema's error when the document does not follow the pain.001.001.09 schema."""
    import xmlschema  # here: only payment runs need it, every run's process loads the code location

    xmlschema.XMLSchema(str(XSD)).validate(xml.decode("utf-8"))


def _pain001(debtor: DebtorAccount, payments: list[dict]) -> bytes:
    config = {"name": debtor.name, "IBAN": IBAN(debtor.iban).compact, "BIC": BIC(debtor.bic).compact,
              "batch": True, "currency": "EUR"}  # fmt: skip
    sepa = SepaTransfer(config, schema=SCHEMA, clean=True)
    for payment in payments:
        sepa.add_payment(dict(payment))
    xml = sepa.export(validate=False, pretty_print=True)
    validate(xml)
    return xml


def run_payments(
    home: Path,
    tenant_id: str,
    schedule: list[dict],
    debtor: DebtorAccount,
    today: dt.date,
    days_ahead: int,
    now: dt.datetime | None = None,
) -> RunResult:
    """Write the tenant's payment run for the schedule rows due up to today + days_ahead.

    `schedule`: rows of finance.skonto_schedule with the supplier's `supplier_name`, `iban`, `bic`.
    Rows already in the ledger, rows whose Skonto day has passed (the discount may no longer be
    deducted: replan first) and rows with bad bank details are excluded and listed.
    """
    home, now = Path(home), now or dt.datetime.now(dt.UTC)
    result = RunResult(tenant_id, run_id=uuid.uuid4().hex[:12])
    if problems := debtor.problems():
        raise ValueError(f"{tenant_id}: the debtor account is unusable: {'; '.join(problems)}")
    first_day = business_day_on_or_after(today)
    until = today + dt.timedelta(days=days_ahead)
    ledger = PaymentLedger(home)
    with ledger.locked():
        paid = {i.invoice_id: i for i in ledger.items()}
        payments, items = [], []
        for row in sorted(schedule, key=lambda r: (r["pay_on"], r["invoice_no"] or "", r["invoice_id"])):
            if row["tenant_id"] != tenant_id or row["pay_on"] > until:
                continue
            reason = _exclusion(row, paid, today)
            if reason:
                result.excluded.append(
                    {"invoice_id": row["invoice_id"], "invoice_no": row["invoice_no"],
                     "supplier_id": row["supplier_id"], "reason": reason}
                )  # fmt: skip
                continue
            execution = max(row["pay_on"], first_day)
            e2e = _text(row["invoice_no"] or row["invoice_id"], 35)
            skonto = row["skonto_amount"] if row["take_skonto"] else Decimal("0.00")
            purpose = f"Rechnung {row['invoice_no']}" + (f" abzgl. {skonto} EUR Skonto" if skonto else "")
            payment = {
                "name": row["supplier_name"],
                "IBAN": IBAN(row["iban"]).compact,
                "amount": to_cents(row["pay_amount"]),
                "execution_date": execution,
                "description": _text(purpose, 140),
                "endtoend_id": e2e,
            }
            if row.get("bic"):
                payment["BIC"] = BIC(row["bic"]).compact
            payments.append(payment)
            items.append(
                LedgerItem(result.run_id, tenant_id, row["invoice_id"], row["supplier_id"], row["pay_amount"],
                           skonto, execution, e2e, "", now)
            )  # fmt: skip
        if not payments:
            return result
        xml = _pain001(debtor, payments)
        folder = home / "payments" / tenant_id / now.strftime("%Y%m%dT%H%M%SZ")
        while folder.exists():
            folder = folder.with_name(folder.name + "-1")
        folder.mkdir(parents=True)
        partial = folder / ".pain.001.xml.partial"
        partial.write_bytes(xml)
        result.folder = folder
        result.included = [replace(i, file=str(result.file.relative_to(home))) for i in items]
        # ledger first, then the file appears: a crash in between never leaves a payable file unrecorded
        ledger.record(result.included)
        os.replace(partial, result.file)
        (folder / "run.json").write_text(json.dumps(_summary(result, debtor), indent=2, ensure_ascii=False))
    return result


def _exclusion(row: dict, paid: dict[str, LedgerItem], today: dt.date) -> str | None:
    if row["invoice_id"] in paid:
        item = paid[row["invoice_id"]]
        return f"already in payment run {item.run_id} ({item.file}, execution {item.execution_date})"
    if row["take_skonto"] and row["pay_on"] < today:
        return f"Skonto day {row['pay_on']} has passed: replan before paying"
    if row.get("supplier_name") is None:
        return "supplier unknown or deleted"
    if reason := iban_problem(row.get("iban")):
        return reason
    if reason := bic_problem(row.get("bic")):
        return reason
    if row["pay_amount"] <= 0:
        return f"nothing to transfer ({row['pay_amount']} EUR)"
    return None


def _summary(result: RunResult, debtor: DebtorAccount) -> dict:
    return {
        "run_id": result.run_id,
        "tenant_id": result.tenant_id,
        "schema": SCHEMA,
        "debtor": {"name": debtor.name, "iban": debtor.iban},
        "payments": len(result.included),
        "total_eur": str(result.total),
        "included": [i.to_json() for i in result.included],
        "excluded": result.excluded,
    }
