"""The finance capability's deployment configuration, bound to the environment by the code location."""

from __future__ import annotations

from decimal import Decimal

import dagster as dg
from pydantic import Field

from neuroerp.finance.accounts import parse_accounts, parse_base_rate
from neuroerp.finance.payment_run import DebtorAccount


class FinanceSettings(dg.ConfigurableResource):
    """The tenants' own bank accounts (debtor of the payment runs) and the § 247 BGB base rate."""

    payment_accounts: str = Field(
        default="", description="JSON {tenant_id: {name, iban, bic}} (NEUROERP_PAYMENT_ACCOUNTS)."
    )
    base_rate_pct: str = Field(default="", description="§ 247 BGB base rate in percent (NEUROERP_BASE_RATE_PCT).")

    def accounts(self) -> dict[str, DebtorAccount]:
        return parse_accounts(self.payment_accounts)

    def base_rate(self) -> Decimal:
        return parse_base_rate(self.base_rate_pct)
