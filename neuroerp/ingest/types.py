"""Names and DDL of the raw tables the ingest writes, and the text form of their keys."""

from __future__ import annotations

import polars as pl

from neuroerp.contract import Table


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def raw_table(spec: Table) -> str:
    return f"raw.{quote(spec.name)}"


def raw_table_ddl(spec: Table) -> str:
    columns = ",\n    ".join(f"{quote(c.name)} {c.type.duckdb_type}" for c in spec.columns)
    return f"CREATE TABLE IF NOT EXISTS {raw_table(spec)} (\n    {columns}\n)"


def key_text_sql(spec: Table, alias: str = "") -> str:
    """The primary key as one text value: the value itself, or a JSON object for composite keys."""
    prefix = f"{alias}." if alias else ""
    if len(spec.primary_key) == 1:
        return f"CAST({prefix}{quote(spec.primary_key[0])} AS VARCHAR)"
    fields = ", ".join(f"{quote(k)}: CAST({prefix}{quote(k)} AS VARCHAR)" for k in spec.primary_key)
    return f"CASE WHEN {' OR '.join(f'{prefix}{quote(k)} IS NULL' for k in spec.primary_key)} THEN NULL ELSE to_json({{{fields}}})::VARCHAR END"


def key_text_expr(spec: Table) -> pl.Expr:
    """The same key text computed in polars, from the extracted (untyped) values."""
    if len(spec.primary_key) == 1:
        return pl.col(spec.primary_key[0]).cast(pl.String)
    any_null = pl.any_horizontal([pl.col(k).is_null() for k in spec.primary_key])
    encoded = pl.struct([pl.col(k).cast(pl.String) for k in spec.primary_key]).struct.json_encode()
    return pl.when(any_null).then(None).otherwise(encoded)
