"""Reference data in the warehouse (`reference.*`), for rules that judge against it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import polars as pl

from neuroerp import reference
from neuroerp.reference.build import bvl_local_date
from neuroerp.sqlmodels import PythonStep

LOAD_REFERENCE_TABLES = PythonStep(
    "reference_tables", writes=("reference.bvl_products", "reference.precursors", "reference.sanctions_list")
)
SANCTIONS_SAMPLE = reference.DATA_DIR / "sanctions_sample.csv"
SANCTIONS_COLUMNS = {  # column of the EU Financial Sanctions Files CSV: ours
    "Entity_LogicalId": "entry_id",
    "Entity_SubjectType_ClassificationCode": "subject_type",
    "Entity_Regulation_Programme": "programme",
    "NameAlias_WholeName": "name",
}


def bvl_register(export: Path | None = None) -> pl.DataFrame:
    """The BVL register: the packaged snapshot, or a newer export (the packaged columns, or the
    BVL API's `/mittel/` columns kennr, mittelname, formulierung_art, zul_erstmalig_am, zul_ende)."""
    if export is None:
        return reference.bvl_products()
    df = pl.read_csv(export, infer_schema_length=None, schema_overrides={"kennr": pl.String})
    if "mittelname" in df.columns:
        df = df.select(
            "kennr",
            name="mittelname",
            formulation="formulierung_art",
            first_authorised_on=pl.col("zul_erstmalig_am").map_elements(bvl_local_date, return_dtype=pl.String),
            authorised_until=pl.col("zul_ende").map_elements(bvl_local_date, return_dtype=pl.String),
        ).with_columns(pl.col("first_authorised_on", "authorised_until").str.to_date(strict=False))
    missing = {"kennr", "name", "authorised_until"} - set(df.columns)
    if missing:
        raise ValueError(f"{export}: not a BVL register export, it lacks columns {sorted(missing)}")
    return df


def sanctions_list(export: Path | None = None) -> pl.DataFrame:
    """Names and aliases of sanctioned persons and entities: the packaged sample excerpt, or the EU
    Financial Sanctions Files consolidated list (CSV, semicolon-separated, as exported; the header is
    the row that names `NameAlias_WholeName`). One row per name: entry_id, name, subject_type,
    programme, source."""
    path = export or SANCTIONS_SAMPLE
    text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    header = next((i for i, line in enumerate(lines) if "NameAlias_WholeName" in line), None)
    if header is None:
        raise ValueError(f"{path}: not an EU sanctions list export, no NameAlias_WholeName column")
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[header:])), delimiter=";"))
    records = [
        {ours: (row.get(theirs) or "").strip() or None for theirs, ours in SANCTIONS_COLUMNS.items()} for row in rows
    ]
    schema = {"entry_id": pl.String, "subject_type": pl.String, "programme": pl.String, "name": pl.String}
    df = pl.DataFrame(records, schema=schema).filter(pl.col("name").is_not_null()).unique(maintain_order=True)
    source = "packaged sample excerpt (not a screening list)" if export is None else str(export)
    return df.with_columns(source=pl.lit(source))


def load_reference_tables(
    conn: duckdb.DuckDBPyConnection, bvl_export: Path | None = None, sanctions_export: Path | None = None
) -> dict[str, int]:
    """Replace reference.bvl_products, reference.precursors and reference.sanctions_list; rows per table."""
    tables = {
        "bvl_products": bvl_register(bvl_export),
        "precursors": reference.precursors(),
        "sanctions_list": sanctions_list(sanctions_export),
    }
    conn.execute("CREATE SCHEMA IF NOT EXISTS reference")
    for name, df in tables.items():
        conn.register("incoming", df.to_arrow())
        conn.execute(f"CREATE OR REPLACE TABLE reference.{name} AS SELECT * FROM incoming")
        conn.unregister("incoming")
    return {name: df.height for name, df in tables.items()}
