"""What gets embedded: one German search text per article and per customer, and its content hash.

The text holds the fields a person searches by: for articles the name, description, category,
article and BVL numbers, the formulation of a plant protection product (from the BVL register),
nutrients and the precursor substance; for customers the name, type, customer number, postal
code, city, district (Landkreis, from the packaged postal-code list), Land and country. Prices,
stock, addresses' streets, e-mails and phone numbers are not in it: a price change embeds nothing,
and the index holds no more personal data than a search needs.

Customers with a completed erasure request, or a restriction of processing in force (GDPR
Art. 17 and 18), are left out, as are soft- and hard-deleted rows (staging shows current rows only).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import duckdb
import polars as pl

from neuroerp import reference
from neuroerp.search.config import ARTICLES, CUSTOMERS
from neuroerp.warehouse import scalar

CATEGORY_DE = {
    "psm": "Pflanzenschutzmittel",
    "fertilizer": "Düngemittel (Dünger)",
    "seed": "Saatgut",
    "feed": "Futtermittel",
    "grain": "Getreide und Ölsaaten",
    "biostimulant": "Biostimulanz, Pflanzenstärkung",
    "other": "Betriebsbedarf",
}
CUSTOMER_TYPE_DE = {
    "farm": "landwirtschaftlicher Betrieb (Landwirt)",
    "contractor": "Lohnunternehmen",
    "retailer": "Handel, Wiederverkäufer",
    "cooperative": "Genossenschaft",
    "industry": "Industrie und Verarbeitung",
    "private": "Privatkunde",
}
LAND_DE = {
    "BW": "Baden-Württemberg", "BY": "Bayern", "BE": "Berlin", "BB": "Brandenburg", "HB": "Bremen",
    "HH": "Hamburg", "HE": "Hessen", "MV": "Mecklenburg-Vorpommern", "NI": "Niedersachsen",
    "NW": "Nordrhein-Westfalen", "RP": "Rheinland-Pfalz", "SL": "Saarland", "SN": "Sachsen",
    "ST": "Sachsen-Anhalt", "SH": "Schleswig-Holstein", "TH": "Thüringen",
}  # fmt: skip
COUNTRY_DE = {
    "DE": "Deutschland", "NL": "Niederlande", "DK": "Dänemark", "AT": "Österreich", "PL": "Polen",
    "BE": "Belgien", "FR": "Frankreich", "LU": "Luxemburg", "CZ": "Tschechien", "CH": "Schweiz",
}  # fmt: skip
# BVL formulation codes (CropLife International's catalogue) in the words staff use
FORMULATION_DE = {
    "AL": "gebrauchsfertige Flüssigkeit", "CS": "Kapselsuspension", "DC": "dispergierbares Konzentrat",
    "EC": "Emulsionskonzentrat", "EO": "Wasser-in-Öl-Emulsion", "EW": "Öl-in-Wasser-Emulsion",
    "FS": "Beizmittel (Saatgutbehandlung)", "GR": "Granulat", "ME": "Mikroemulsion", "OD": "Öldispersion",
    "RB": "Fertigköder (Köder)", "SC": "Suspensionskonzentrat", "SE": "Suspoemulsion",
    "SG": "wasserlösliches Granulat", "SL": "wasserlösliches Konzentrat", "SP": "wasserlösliches Pulver",
    "WG": "wasserdispergierbares Granulat", "WP": "Spritzpulver", "ZC": "Kapselsuspension mit Suspension",
    "GB": "Köder (Granulat)", "DP": "Stäubemittel", "VP": "Verdampfungsprodukt", "PA": "Paste",
}  # fmt: skip
SUBSTANCE_DE = {
    "Ammonium nitrate": "Ammoniumnitrat", "Potassium nitrate": "Kaliumnitrat", "Sodium nitrate": "Natriumnitrat",
    "Calcium nitrate": "Calciumnitrat", "Calcium ammonium nitrate": "Kalkammonsalpeter",
    "Magnesium nitrate hexahydrate": "Magnesiumnitrat", "Hydrogen peroxide": "Wasserstoffperoxid",
    "Nitric acid": "Salpetersäure", "Sulphuric acid": "Schwefelsäure", "Acetone": "Aceton", "Hexamine": "Hexamin",
    "Magnesium powder": "Magnesiumpulver", "Aluminium powder": "Aluminiumpulver",
}  # fmt: skip

# the rows erased or restricted under the GDPR: left out of the index and everything derived from it
WITHHELD = "g.status = 'completed' and g.kind in ('erasure', 'restriction')"

ARTICLES_SQL = """
select
    a.article_id as id, a.tenant_id, a.article_no as number, a.name, a.description, a.category, a.is_active,
    a.psm_reg_no, a.psm_professional_only, a.n_total_pct, a.precursor_annex, a.precursor_substance, a.is_organic,
    a.import_control, a.eudr_commodity, {formulation} as formulation,
    null::timestamptz as updated_at  -- staging.articles does not carry it; duplicates keep the last hash
from staging.articles as a
{join}
"""
BVL_JOIN = "left join (select kennr, any_value(formulation) as formulation from reference.bvl_products group by kennr) as b on b.kennr = a.psm_reg_no"  # noqa: E501

CUSTOMERS_SQL = f"""
select
    c.customer_id as id, c.tenant_id, c.customer_no as number, c.name, c.customer_type, c.is_professional,
    c.postal_code, c.city, c.state_code, c.country_code, c.updated_at
from staging.customers as c
where not exists (select 1 from staging.gdpr_requests as g where g.customer_id = c.customer_id and {WITHHELD})
"""

# the columns of an index row besides the vector (see neuroerp.search.index)
ROW_COLUMNS = (
    "id", "tenant_id", "kind", "number", "name", "category", "place", "active", "text", "grams", "content_hash",
)  # fmt: skip


@dataclass(frozen=True)
class Documents:
    """The rows one table of the index should hold, with the source fields they came from."""

    table: str
    frame: pl.DataFrame  # ROW_COLUMNS plus the source fields (labels of the evaluation read them)
    duplicates: list[str]  # ids that came more than once: the latest row was kept
    withheld_ids: tuple[str, ...] = ()  # customers left out under the GDPR (erased, restricted)

    @property
    def withheld(self) -> int:
        return len(self.withheld_ids)

    @property
    def rows(self) -> pl.DataFrame:
        return self.frame.select(ROW_COLUMNS)


def _join(parts: list[str | None], sep: str = ". ") -> str:
    return sep.join(p.strip().rstrip(".") for p in parts if p and p.strip()) + "."


def _pct(value) -> str:
    return f"{float(value):g}".replace(".", ",")


def article_text(row: dict) -> str:
    category = row["category"]
    parts = [row["name"], row["description"], f"Kategorie: {CATEGORY_DE.get(category, category)}"]
    parts.append(f"Artikelnummer {row['number']}")
    if row.get("psm_reg_no"):
        said = (row.get("description") or "").lower()  # free text: add only what it does not say yet
        formulation = row.get("formulation")
        if row["psm_reg_no"].lower() not in said:
            parts.append(f"BVL-Nr. {row['psm_reg_no']}")
        if formulation:
            parts.append(f"Formulierung {formulation}: {FORMULATION_DE.get(formulation, formulation)}")
        audience = "für berufliche Anwender" if row.get("psm_professional_only") else "für Haus- und Kleingarten"
        if audience not in said:
            parts.append(audience)
    if row.get("n_total_pct") is not None:
        parts.append(f"Stickstoff {_pct(row['n_total_pct'])} %")
    if row.get("precursor_substance"):
        substance = SUBSTANCE_DE.get(row["precursor_substance"], row["precursor_substance"])
        annex = f" (Anhang {row['precursor_annex']})" if row.get("precursor_annex") else ""
        parts.append(f"enthält {substance}, Ausgangsstoff für Explosivstoffe{annex}")
    if row.get("is_organic"):
        parts.append("Bio, ökologisch")
    if row.get("import_control"):
        parts.append(f"Importware mit Kontrolle {row['import_control']}")
    if row.get("eudr_commodity"):
        parts.append(f"EUDR-Rohstoff {row['eudr_commodity']}")
    if row.get("is_active") is False:
        parts.append("nicht mehr aktiv")
    return _join(parts)


def customer_text(row: dict) -> str:
    kind = row["customer_type"]
    country = row.get("country_code") or "DE"
    place = " ".join(p for p in (row.get("postal_code"), row.get("city")) if p)
    land = LAND_DE.get(row.get("state_code") or "", "")
    parts = [row["name"], CUSTOMER_TYPE_DE.get(kind, kind), f"Kundennummer {row['number']}", place]
    if row.get("district") and row["district"] not in (row.get("city") or ""):
        parts.append(row["district"])
    parts.append(", ".join(p for p in (land, COUNTRY_DE.get(country, country)) if p))
    return _join(parts)


def article_grams(row: dict) -> str:
    """What the n-gram index reads: the text (its numbers too: partial numbers are found)."""
    return article_text(row)


def customer_grams(row: dict) -> str:
    """The name, the customer number and the place: what a person misspells, or types in part.
    The type, Land and country are words the word index finds as typed; as 4-grams ("nied", "sach"
    of every row in Niedersachsen) they made a query's n-gram lookup read a fifth of the customers,
    the slowest part of a search (26 ms of CPU at 80,000 customers), for no better ranking."""
    place = " ".join(p for p in (row.get("postal_code"), row.get("city")) if p)
    parts = [row["name"], row["number"], place]
    if row.get("district") and row["district"] not in (row.get("city") or ""):
        parts.append(row["district"])
    return _join(parts)


def content_hash(row: dict) -> str:
    """What decides whether a row is embedded again: everything the index stores of it but the vector."""
    stored = [row[c] for c in ROW_COLUMNS if c != "content_hash"]
    return hashlib.sha256(json.dumps(stored, ensure_ascii=False, default=str).encode()).hexdigest()


def _finish(table: str, frame: pl.DataFrame, withheld: tuple[str, ...] = ()) -> Documents:
    """Hash each row, keep the latest row of an id that came twice (merge_insert needs unique keys)."""
    rows = frame.to_dicts()
    frame = frame.with_columns(content_hash=pl.Series([content_hash(r) for r in rows], dtype=pl.String))
    counts = frame.group_by("id").len().filter(pl.col("len") > 1)
    duplicates = sorted(counts["id"].to_list())
    if duplicates:  # the latest change wins; without a time, the same row whatever order the rows came in
        order = ["updated_at", "content_hash"]
        frame = frame.sort(order, descending=True, nulls_last=True).unique("id", keep="first")
    return Documents(table=table, frame=frame.sort("id"), duplicates=duplicates, withheld_ids=withheld)


def _has_relation(conn: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    sql = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    return scalar(conn, sql, [schema, name]) > 0


def read_articles(conn: duckdb.DuckDBPyConnection) -> Documents:
    with_bvl = _has_relation(conn, "reference", "bvl_products")
    sql = ARTICLES_SQL.format(formulation="b.formulation" if with_bvl else "null", join=BVL_JOIN if with_bvl else "")
    frame = conn.sql(sql).pl()
    rows = frame.to_dicts()
    frame = frame.with_columns(
        kind=pl.lit("article"),
        place=pl.lit(None, dtype=pl.String),
        active=pl.col("is_active").fill_null(True),
        text=pl.Series([article_text(r) for r in rows], dtype=pl.String),
        grams=pl.Series([article_grams(r) for r in rows], dtype=pl.String),
    )
    return _finish(ARTICLES, frame)


def _districts() -> pl.DataFrame:
    """District (Landkreis) per postal code and place, from the packaged postal-code list."""
    codes = reference.postal_codes().select("postal_code", "place", "district")
    return codes.unique(["postal_code", "place"], keep="first")


def read_customers(conn: duckdb.DuckDBPyConnection) -> Documents:
    frame = conn.sql(CUSTOMERS_SQL).pl()
    withheld = tuple(
        r[0]
        for r in conn.execute(
            "select distinct c.customer_id from staging.customers as c"
            f" join staging.gdpr_requests as g on g.customer_id = c.customer_id and {WITHHELD} order by 1"
        ).fetchall()
    )
    districts = _districts()
    by_code = districts.unique("postal_code", keep="first").select("postal_code", fallback="district")
    frame = (
        frame.join(districts, left_on=["postal_code", "city"], right_on=["postal_code", "place"], how="left")
        .join(by_code, on="postal_code", how="left")
        .with_columns(
            district=pl.when(pl.col("country_code") == "DE").then(pl.coalesce("district", "fallback")),
        )
        .drop("fallback")
    )
    rows = frame.to_dicts()
    frame = frame.with_columns(
        kind=pl.lit("customer"),
        category=pl.col("customer_type"),
        place=pl.col("city"),
        active=pl.lit(True),
        text=pl.Series([customer_text(r) for r in rows], dtype=pl.String),
        grams=pl.Series([customer_grams(r) for r in rows], dtype=pl.String),
    )
    return _finish(CUSTOMERS, frame, withheld)


READERS = {ARTICLES: read_articles, CUSTOMERS: read_customers}


def read_documents(conn: duckdb.DuckDBPyConnection) -> dict[str, Documents]:
    """Both tables' documents, read in one connection (one consistent view of the warehouse)."""
    return {table: read(conn) for table, read in READERS.items()}
