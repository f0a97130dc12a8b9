"""The payment run on its own: pain.001.001.09 valid against the schema, bad bank details and passed
Skonto days left out and listed, the ledger that prevents paying twice, and voiding a run.

Bad inputs tried: an IBAN with wrong check digits, a missing IBAN, an IBAN outside SEPA, a malformed
BIC, a deleted supplier, a Skonto day in the past, a debtor account with an invalid IBAN."""

import datetime as dt
import json
from decimal import Decimal as D

import pytest
import xmlschema

from neuroerp.finance.accounts import DEMO_ACCOUNTS, parse_accounts, parse_base_rate
from neuroerp.finance.ledger import PaymentLedger
from neuroerp.finance.payment_run import XSD, DebtorAccount, run_payments

TODAY = dt.date(2026, 11, 27)  # a Friday
DEBTOR = parse_accounts('{"t": ' + str(DEMO_ACCOUNTS["lh-nord"]).replace("'", '"') + "}")["t"]


def _row(k, iban="DE89370400440532013000", bic="COBADEFFXXX", take=False, pay_on=TODAY, name="Müller Agrar GmbH"):
    return {"tenant_id": "t", "invoice_id": f"i{k}", "invoice_no": f"ER-{k}", "supplier_id": f"s{k}",
            "supplier_name": name, "iban": iban, "bic": bic, "pay_on": pay_on, "pay_amount": D("980.10") + k,
            "skonto_amount": D("20.00") if take else D("0.00"), "take_skonto": take}  # fmt: skip


ROWS = [
    _row(0, take=True),
    _row(1, iban="DE89370400440532013001"),  # wrong check digits
    _row(2, iban=None),
    _row(3, iban="US12345678901234567890"),  # not an IBAN country
    _row(4, iban="CH9300762011623852957", bic="UBSWCHZH80A"),  # Switzerland: SEPA, paid
    _row(5, bic="COBA"),  # malformed BIC
    _row(6, name=None),  # supplier deleted
    _row(7, take=True, pay_on=TODAY - dt.timedelta(days=1)),  # Skonto day passed
    _row(8, bic=None, pay_on=TODAY + dt.timedelta(days=3)),  # IBAN only: allowed
    _row(9, pay_on=TODAY + dt.timedelta(days=30)),  # beyond the run's days
]


def test_a_run_writes_valid_pain001_and_lists_what_it_left_out(tmp_path):
    result = run_payments(tmp_path, "t", ROWS, DEBTOR, TODAY, days_ahead=5)
    assert {i.invoice_id for i in result.included} == {"i0", "i4", "i8"}
    reasons = {e["invoice_id"]: e["reason"] for e in result.excluded}
    assert set(reasons) == {"i1", "i2", "i3", "i5", "i6", "i7"}
    assert "invalid IBAN" in reasons["i1"] and reasons["i2"] == "no IBAN" and "invalid IBAN" in reasons["i3"]
    assert "invalid BIC" in reasons["i5"] and "deleted" in reasons["i6"] and "replan" in reasons["i7"]
    assert result.file.relative_to(tmp_path).parts[:2] == ("payments", "t")
    schema = xmlschema.XMLSchema(str(XSD))
    schema.validate(str(result.file))
    doc = schema.to_dict(str(result.file))["CstmrCdtTrfInitn"]
    assert doc["GrpHdr"]["NbOfTxs"] == "3" and D(str(doc["GrpHdr"]["CtrlSum"])) == result.total == D("2952.30")
    days = {p["ReqdExctnDt"]["Dt"] for p in doc["PmtInf"]}
    assert days == {"2026-11-27", "2026-11-30"}  # one batch per execution day, Monday for i8
    assert "Skonto" in result.file.read_text() and "Muller Agrar GmbH" in result.file.read_text()


def test_no_invoice_is_paid_twice_and_a_voided_run_frees_its_invoices(tmp_path):
    first = run_payments(tmp_path, "t", ROWS, DEBTOR, TODAY, days_ahead=5)
    second = run_payments(tmp_path, "t", ROWS, DEBTOR, TODAY, days_ahead=40)
    assert {i.invoice_id for i in second.included} == {"i9"}  # only what the first did not include
    assert sum("already in payment run" in e["reason"] for e in second.excluded) == 3
    ledger = PaymentLedger(tmp_path)
    assert len(ledger.items()) == 4
    with pytest.raises(ValueError, match="name and a reason"):
        ledger.void(first.run_id, by="", reason="not submitted")
    assert ledger.void(first.run_id, by="Buchhaltung", reason="file not submitted") == 3
    third = run_payments(tmp_path, "t", ROWS, DEBTOR, TODAY, days_ahead=5)
    assert {i.invoice_id for i in third.included} == {"i0", "i4", "i8"}
    with pytest.raises(ValueError, match="no active payment run"):
        ledger.void(first.run_id, by="x", reason="twice")


def test_an_unusable_debtor_account_writes_nothing(tmp_path):
    bad = DebtorAccount("Hof", "DE00370400440532013000", "COBADEFFXXX")
    with pytest.raises(ValueError, match="debtor account is unusable"):
        run_payments(tmp_path, "t", ROWS, bad, TODAY, days_ahead=5)
    assert not (tmp_path / "payments" / "t").exists() and PaymentLedger(tmp_path).items() == []


def test_configuration_is_checked():
    with pytest.raises(ValueError, match="must be JSON"):
        parse_accounts("lh-nord=DE89")
    assert parse_base_rate("") == D("1.27") and parse_base_rate("2,27") == D("2.27")
    with pytest.raises(ValueError):
        parse_base_rate("abc")
    assert parse_base_rate("-9.99") == D("-9.99") and parse_base_rate("19.99") == D("19.99")
    for implausible in ("-10", "20", "127"):  # a base rate in basis points or per mille, by mistake
        with pytest.raises(ValueError, match="not a plausible base rate"):
            parse_base_rate(implausible)


def test_each_fault_of_the_debtor_account_is_named():
    iban = DEBTOR.iban
    assert DebtorAccount("Hof", iban, "COBADEFFXXX").problems() == []
    assert DebtorAccount("Hof", iban, "").problems() == ["no BIC (the debtor agent must be named)"]
    (bic,) = DebtorAccount("Hof", iban, "COBA").problems()
    assert bic.startswith("BIC 'COBA': ")
    assert DebtorAccount(" ", iban, "COBADEFFXXX").problems() == ["no account holder name"]


def test_the_run_file_and_its_summary_for_whoever_checks_them_before_upload(tmp_path):
    """The bank's EndToEndId holds at most 35 characters: a longer invoice number is cut, not
    refused by the bank. run.json says whose run it is and what it pays; the XML is indented."""
    long_no = {**_row(0), "invoice_no": "ER-2026-LIEFERANT-SUED-0000000000001234"}
    result = run_payments(tmp_path, "t", [long_no, _row(4, iban="CH9300762011623852957", bic="UBSWCHZH80A")],
                          DEBTOR, TODAY, days_ahead=5)  # fmt: skip
    xml = result.file.read_text(encoding="utf-8")
    assert "<EndToEndId>ER-2026-LIEFERANT-SUED-000000000000</EndToEndId>" in xml
    assert "\n\t\t<" in xml  # one element a line, indented
    summary = json.loads((result.file.parent / "run.json").read_text(encoding="utf-8"))
    assert summary["tenant_id"] == "t" and summary["payments"] == 2
    assert [i["invoice_id"] for i in summary["included"]] == ["i0", "i4"]


def test_the_cli_lists_and_voids_runs(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from pipelines.cli import main

    monkeypatch.setenv("NEUROERP_HOME", str(tmp_path))
    run = run_payments(tmp_path, "t", ROWS, DEBTOR, TODAY, days_ahead=5)
    listed = CliRunner().invoke(main, ["payments", "list"])
    assert listed.exit_code == 0 and run.run_id in listed.output and "2,952.30" in listed.output
    refused = CliRunner().invoke(main, ["payments", "void", "nope", "--by", "A", "--reason", "B"])
    assert refused.exit_code != 0 and "no active payment run" in refused.output
    voided = CliRunner().invoke(main, ["payments", "void", run.run_id, "--by", "Buchhaltung", "--reason", "storniert"])
    assert voided.exit_code == 0 and PaymentLedger(tmp_path).items() == []
