"""Deployment configuration of the finance capability: the tenants' own bank accounts (the debtor
of a payment run) and the § 247 BGB base rate, both from the environment.

    NEUROERP_PAYMENT_ACCOUNTS='{"lh-nord": {"name": "...", "iban": "DE...", "bic": "..."}}'
    NEUROERP_BASE_RATE_PCT=1.27

The embedded demo ERP gets demo accounts (test IBANs of the Bundesbank's and a big bank's published
examples), so its payment run works out of the box; a real ERP source gets none until configured.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from neuroerp.finance.model import BASE_RATE_PCT

if TYPE_CHECKING:  # the SEPA libraries load only when accounts are parsed, not with every CLI command
    from neuroerp.finance.payment_run import DebtorAccount

ACCOUNTS_VAR = "NEUROERP_PAYMENT_ACCOUNTS"
BASE_RATE_VAR = "NEUROERP_BASE_RATE_PCT"
DEMO_ACCOUNTS = {
    "lh-nord": {"name": "Raiffeisen Landhandel Nord eG (Demo)", "iban": "DE02120300000000202051", "bic": "BYLADEM1001"},
    "lh-sued": {"name": "Agrarhandel Sued GmbH (Demo)", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX"},
}


def parse_accounts(text: str) -> dict[str, DebtorAccount]:
    """The tenants' debtor accounts from the JSON of NEUROERP_PAYMENT_ACCOUNTS (empty: none)."""
    from neuroerp.finance.payment_run import DebtorAccount

    if not text.strip():
        return {}
    try:
        data = json.loads(text)
        return {t: DebtorAccount(a["name"], a["iban"], a.get("bic") or "") for t, a in data.items()}
    except (json.JSONDecodeError, AttributeError, KeyError, TypeError) as exc:
        raise ValueError(
            f"{ACCOUNTS_VAR} must be JSON like "
            '{"<tenant_id>": {"name": "...", "iban": "DE...", "bic": "..."}}: ' + str(exc)
        ) from None


def parse_base_rate(text: str) -> Decimal:
    if not text.strip():
        return BASE_RATE_PCT
    try:
        rate = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"{BASE_RATE_VAR}={text!r} is not a percentage such as 1.27") from None
    if not Decimal(-10) < rate < Decimal(20):
        raise ValueError(f"{BASE_RATE_VAR}={text!r} is not a plausible base rate in percent")
    return rate


def default_environment(uses_demo_source: bool) -> dict[str, str]:
    return {ACCOUNTS_VAR: json.dumps(DEMO_ACCOUNTS) if uses_demo_source else "", BASE_RATE_VAR: str(BASE_RATE_PCT)}
