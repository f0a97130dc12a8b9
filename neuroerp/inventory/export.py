"""The Bestellvorschlag as an Excel workbook for purchasing, one per tenant and run:

    NEUROERP_HOME/reports/purchasing/<tenant>/<UTC timestamp>/bestellvorschlag.xlsx

Sheets (German, for the buyers): Bestellvorschlag (what to order, by order-by date), Hinweise
(needed but not ordered, and why; articles to plan by hand), Prognosegüte (the backtest per
category) and Parameter (what the run was configured with). Folders are never overwritten; every
file is listed with its SHA-256 in NEUROERP_HOME/reports/manifest.jsonl (append-only, neuroerp.archive).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl

from neuroerp.archive import archive_files, new_folder
from neuroerp.inventory.forecast import CROSTON_SBA, SEASONAL_NAIVE, TOP_DOWN
from neuroerp.inventory.policy import CAPACITY, MASTER_DATA_ERROR, NO_HISTORY, PSM_BLOCKED
from neuroerp.inventory.reasons import CATEGORY_LABELS, STATUS_LABELS, UNIT_LABELS
from neuroerp.xlsx import add_sheet as _sheet

FILE_NAME = "bestellvorschlag.xlsx"
MODEL_LABELS = {
    TOP_DOWN: "Saisonprofil der Warengruppe × Artikelanteil",
    CROSTON_SBA: "Croston (SBA), sporadischer Bedarf",
    SEASONAL_NAIVE: "Vorjahreswoche (saisonal naiv)",
}
DATE_FORMAT = "DD.MM."
QTY_FORMAT = "#,##0.###"
MONEY_FORMAT = '#,##0.00 "€"'
ORDER_COLUMNS = [
    # header, column of inventory.reorder_plan (or a function of the row), width, number format
    ("Bestellen bis", "order_by", 12, DATE_FORMAT),
    ("Lieferant", "supplier_name", 30, None),
    ("Lager", "warehouse_name", 18, None),
    ("Artikelnr.", "article_no", 11, None),
    ("Artikel", "article_name", 45, None),
    ("Warengruppe", lambda r: CATEGORY_LABELS.get(r["category"], r["category"]), 14, None),
    ("Menge", "proposed_qty", 10, QTY_FORMAT),
    ("Einheit", lambda r: UNIT_LABELS.get(r["unit"], r["unit"]), 7, None),
    ("Gebinde", "pack_size", 9, QTY_FORMAT),
    ("Mindestmenge", "min_order_qty", 12, QTY_FORMAT),
    ("Einkaufspreis", "unit_cost", 12, MONEY_FORMAT),
    ("Bestellwert", "order_value", 13, MONEY_FORMAT),
    ("Lieferung ca.", "expected_arrival", 12, DATE_FORMAT),
    ("Verfügbar", "available", 10, QTY_FORMAT),
    ("Sicherheitsbestand", "safety_stock", 12, QTY_FORMAT),
    ("Meldebestand", "reorder_point", 12, QTY_FORMAT),
    ("Bestellniveau", "order_up_to", 12, QTY_FORMAT),
    ("Kundenerklärung (Ausgangsstoff)", lambda r: "ja" if r["customer_statement_required"] else "", 14, None),
    ("Begründung", "reason", 120, None),
]
NOTE_COLUMNS = [
    ("Status", lambda r: STATUS_LABELS.get(r["status"], r["status"]), 26, None),
    ("Lager", "warehouse_name", 18, None),
    ("Artikelnr.", "article_no", 11, None),
    ("Artikel", "article_name", 45, None),
    ("Warengruppe", lambda r: CATEGORY_LABELS.get(r["category"], r["category"]), 14, None),
    ("Bedarf", "required_qty", 10, QTY_FORMAT),
    ("Einheit", lambda r: UNIT_LABELS.get(r["unit"], r["unit"]), 7, None),
    ("Verfügbar", "available", 10, QTY_FORMAT),
    ("Abverkauf bis", "psm_sellable_until", 12, "DD.MM.YYYY"),
    ("Begründung", "reason", 120, None),
]
NOTE_STATUSES = (PSM_BLOCKED, CAPACITY, NO_HISTORY, MASTER_DATA_ERROR)


@dataclass(frozen=True)
class ExportedFile:
    tenant_id: str
    path: Path
    sha256: str
    proposals: int
    notes: int


def workbook_bytes(plan: pl.DataFrame, backtest: pl.DataFrame, parameters: dict) -> bytes:
    """The workbook of one tenant's plan rows."""
    import io

    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    orders = plan.filter(pl.col("status") == "order").with_columns(
        order_value=(pl.col("proposed_qty") * pl.col("unit_cost")).cast(pl.Decimal(18, 2))
    )
    orders = orders.sort("order_by", "supplier_name", "warehouse_name", "article_no", nulls_last=True)
    notes = plan.filter(pl.col("status").is_in(NOTE_STATUSES)).sort("status", "warehouse_name", "article_no")
    _sheet(wb, "Bestellvorschlag", ORDER_COLUMNS, orders.to_dicts())
    _sheet(wb, "Hinweise", NOTE_COLUMNS, notes.to_dicts())
    quality = [
        {
            "Warengruppe": CATEGORY_LABELS.get(r["category"], r["category"]),
            "Modell": MODEL_LABELS.get(r["model"], r["model"]),
            "gewählt": "ja" if r["chosen"] else "",
            "Zeitreihen": r["series"],
            "WAPE Auswahl": r["wape_selection"],
            "WAPE Prüfzeitraum": r["wape_holdout"],
        }
        for r in backtest.sort("category", "model").to_dicts()
    ]
    columns = [(k, k, 40 if k == "Modell" else 16, "0.0%" if k.startswith("WAPE") else None) for k in
               ("Warengruppe", "Modell", "gewählt", "Zeitreihen", "WAPE Auswahl", "WAPE Prüfzeitraum")]  # fmt: skip
    _sheet(wb, "Prognosegüte", columns, quality)
    ws = wb.create_sheet("Parameter")
    for key, value in parameters.items():
        ws.append([key, value if isinstance(value, int | float | str | dt.date | Decimal) else json.dumps(value)])
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 60
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def plan_parameters(plan: pl.DataFrame) -> dict:
    """What the plan was made with, as the plan recorded it."""
    if plan.is_empty():
        return {}
    first = plan.row(0, named=True)
    return {
        "Servicegrad": f"{first['service_level'] * 100:g} %",
        "Bestellrhythmus (Tage)": first["review_period_days"],
        "berechnet (UTC)": first["computed_at"].strftime("%d.%m.%Y %H:%M:%S"),
        "Verfahren": (
            "Prognose je Warengruppe nach Backtest-Fehler (WAPE); Sicherheitsbestand "
            "z·√(L·σ²_d + d²·σ²_L); Bestellniveau = Bedarf in Lieferzeit + Bestellrhythmus + Sicherheitsbestand"
        ),
    }


def export_proposals(
    conn: duckdb.DuckDBPyConnection, home: Path, parameters: dict | None = None, now: dt.datetime | None = None
) -> list[ExportedFile]:
    """One workbook per tenant of inventory.reorder_plan; returns what was written."""
    now = now or dt.datetime.now(dt.UTC)
    plan = conn.sql("SELECT * FROM inventory.reorder_plan").pl()
    parameters = plan_parameters(plan) | (parameters or {})
    backtest = conn.sql("SELECT * FROM inventory.forecast_backtest").pl()
    root = Path(home) / "reports"
    out = []
    for tenant in sorted(plan["tenant_id"].unique().to_list()):
        rows = plan.filter(pl.col("tenant_id") == tenant)
        as_of = rows["as_of"][0]
        params = {"Mandant": tenant, "Stichtag": as_of, "erstellt (UTC)": now.strftime("%d.%m.%Y %H:%M:%S")}
        data = workbook_bytes(rows, backtest.filter(pl.col("tenant_id") == tenant), params | parameters)
        folder = new_folder(root, "purchasing", tenant, now)
        (archived,) = archive_files(root, folder, {FILE_NAME: data}, "purchasing", now)
        out.append(
            ExportedFile(
                tenant,
                archived.path,
                archived.sha256,
                rows.filter(pl.col("status") == "order").height,
                rows.filter(pl.col("status").is_in(NOTE_STATUSES)).height,
            )
        )
    return out
