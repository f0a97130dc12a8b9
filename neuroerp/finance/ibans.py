"""Supplier IBANs judged by the maintained IBAN library (schwifty), for the compliance rule FIN-002.

A SQL rule cannot call a Python library, so the check is a Python step among the SQL models: it
reads staging.suppliers and writes finance.supplier_ibans (one row per supplier with an IBAN:
valid or not, and why), which the rule selects from. Declared as a PythonStep, so the asset graph
and runs outside Dagster build it after the suppliers and before the rule.
"""

from __future__ import annotations

import duckdb
import polars as pl

from neuroerp.sqlmodels import PythonStep
from neuroerp.warehouse import fetch_frame

SUPPLIER_IBANS = "finance.supplier_ibans"
CHECK_IBANS = PythonStep("supplier_ibans", writes=(SUPPLIER_IBANS,), reads=("staging.suppliers",))
SCHEMA = {
    "supplier_id": pl.String, "tenant_id": pl.String, "supplier_no": pl.String, "name": pl.String,
    "iban": pl.String, "is_valid": pl.Boolean, "problem": pl.String,
}  # fmt: skip


def iban_validity(iban: str) -> str | None:
    """Why the IBAN is invalid (check digits, length, structure, country), or None when it is valid.

    Validity only: an IBAN outside the SEPA zone is valid (the payment run excludes it on its own).
    """
    from schwifty import IBAN  # loaded when IBANs are checked, not with every import of finance
    from schwifty.exceptions import SchwiftyException

    try:
        IBAN(iban)
    except SchwiftyException as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def judge_ibans(suppliers: pl.DataFrame) -> pl.DataFrame:
    """One row per supplier with a non-blank IBAN: whether it is valid and why not."""
    with_iban = suppliers.filter(pl.col("iban").is_not_null() & (pl.col("iban").str.strip_chars() != ""))
    problems = [iban_validity(iban) for iban in with_iban["iban"].to_list()]
    return with_iban.select("supplier_id", "tenant_id", "supplier_no", "name", "iban").with_columns(
        is_valid=pl.Series([p is None for p in problems], dtype=pl.Boolean),
        problem=pl.Series(problems, dtype=pl.String),
    )


def check_supplier_ibans(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Replace finance.supplier_ibans from staging.suppliers; counts of checked and invalid IBANs."""
    suppliers = fetch_frame(conn, "SELECT supplier_id, tenant_id, supplier_no, name, iban FROM staging.suppliers")
    judged = judge_ibans(suppliers) if suppliers.height else pl.DataFrame(schema=SCHEMA)
    conn.execute("CREATE SCHEMA IF NOT EXISTS finance")
    conn.register("judged_ibans", judged.select(list(SCHEMA)).cast(SCHEMA).to_arrow())
    try:  # one statement: readers see the previous table or this one
        conn.execute(f"CREATE OR REPLACE TABLE {SUPPLIER_IBANS} AS SELECT * FROM judged_ibans")
    finally:
        conn.unregister("judged_ibans")
    return {"checked": judged.height, "invalid": int((~judged["is_valid"]).sum()) if judged.height else 0}
